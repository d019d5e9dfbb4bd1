package org.workshopfleet.cloud;

import java.util.Collection;
import java.util.Map;

/**
 * A cloud whose machines carry tags that can be changed after launch, e.g. a moved {@code ExpiresAt}. Asked for with
 * {@link Cloud#tagging()}; the lab keeps such values only in the ledger and on the machine, and answers empty.
 */
public interface TaggingExtension {

    /** Sets (adds or replaces) these tags on the given machines. */
    void retag(Collection<String> machineIds, Map<String, String> tags);
}
