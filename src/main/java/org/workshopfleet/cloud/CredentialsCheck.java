package org.workshopfleet.cloud;

import org.workshopfleet.spec.WorkshopSpec;

/** Fails with one line when a provider needs credentials and none can be found; checked before any cloud call. */
@FunctionalInterface
public interface CredentialsCheck {

    /** A provider that needs no credentials (the lab runs on this computer). */
    CredentialsCheck NONE = spec -> { };

    /** Throws a {@link org.workshopfleet.error.BadInput} naming what to set when the credentials are missing. */
    void check(WorkshopSpec spec);
}
