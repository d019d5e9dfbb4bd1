package org.workshopfleet.command;

import java.util.EnumMap;
import java.util.Map;
import org.workshopfleet.cloud.CredentialsCheck;
import org.workshopfleet.cloud.ProviderProfile;
import org.workshopfleet.cloud.ec2.Ec2Profile;
import org.workshopfleet.cloud.lab.LabProfile;
import org.workshopfleet.cloud.lightsail.LightsailProfile;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.spec.Provider;

/**
 * The one place that knows every provider: its {@link ProviderProfile}. Everything else outside the cloud packages
 * asks a profile instead of testing which provider it has.
 */
public final class Providers {

    private static final Map<Provider, ProviderProfile> PROFILES = registry(
            new Ec2Profile(), new LightsailProfile(), new LabProfile());

    private Providers() {
    }

    private static Map<Provider, ProviderProfile> registry(ProviderProfile... profiles) {
        Map<Provider, ProviderProfile> m = new EnumMap<>(Provider.class);
        for (ProviderProfile p : profiles) {
            m.put(p.provider(), p);
        }
        if (m.size() != Provider.values().length) {
            throw new IllegalStateException("a provider has no profile: " + m.keySet());
        }
        return m;
    }

    /** The profile of {@code provider}. */
    public static ProviderProfile profile(Provider provider) {
        return PROFILES.get(provider);
    }

    /** The profile of the provider a ledger names; a name no provider has is a damaged ledger. */
    public static ProviderProfile ofLedger(String id) {
        try {
            return profile(Provider.parse(id == null ? "" : id));
        } catch (FleetException e) {
            throw new BadInput("the ledger names an unknown provider '" + id + "': restore ledger.json from"
                    + " ledger.json.bak or use -Daction=teardown, which also finds resources by tag");
        }
    }

    /** Each spec's provider's own credentials check. */
    public static CredentialsCheck credentials() {
        return spec -> profile(spec.provider()).credentials().check(spec);
    }
}
