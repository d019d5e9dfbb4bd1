package org.workshopfleet.cloud.lightsail;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.workshopfleet.cloud.AwsCredentials;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.CredentialsCheck;
import org.workshopfleet.cloud.IngressRule;
import org.workshopfleet.cloud.PlannedCall;
import org.workshopfleet.cloud.ProviderProfile;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.spec.Cidr;
import org.workshopfleet.spec.OsProfile;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.Tags;
import org.workshopfleet.spec.WorkshopSpec;

/** Amazon Lightsail: Ubuntu 22.04 bundles, a launch script as user data, a firewall per instance. */
public final class LightsailProfile implements ProviderProfile {

    private static final CredentialsCheck CREDENTIALS = new AwsCredentials();

    @Override
    public Provider provider() {
        return Provider.LIGHTSAIL;
    }

    @Override
    public Cloud connect(WorkshopSpec spec, ResourceRecorder recorder, Path projectRoot) {
        return LightsailCloud.connect(spec, recorder);
    }

    @Override
    public UserDataFormat userDataFormat() {
        return UserDataFormat.SHELL_SCRIPT;
    }

    @Override
    public OsProfile os() {
        return OsProfile.UBUNTU_2204;
    }

    /** {@code lightsail:ubuntu_22_04}: the blueprint, the same in every region. */
    @Override
    public String stockImage(String region, Path projectRoot) {
        return "lightsail:" + LightsailCloud.BLUEPRINT;
    }

    @Override
    public Optional<Cidr> defaultCidr() {
        return Optional.empty();
    }

    @Override
    public String sizeName(WorkshopSpec spec) {
        return spec.lightsailBundle();
    }

    /** None: Lightsail launches exactly the bundle asked for. */
    @Override
    public List<String> fallbackSizes(WorkshopSpec spec) {
        return List.of();
    }

    @Override
    public String machines(WorkshopSpec spec, int count) {
        return count + " × Lightsail " + sizeName(spec) + " in " + spec.region();
    }

    @Override
    public boolean billed() {
        return true;
    }

    /** Bundle prices are the same list price in every region we know of (see the price table's note). */
    @Override
    public String priceKey(String region, String size) {
        return "lightsail/" + size;
    }

    @Override
    public CredentialsCheck credentials() {
        return CREDENTIALS;
    }

    @Override
    public boolean findsMachinesById() {
        return false;
    }

    /**
     * What {@link LightsailCloud} calls on an empty fleet: {@code prepare} (the key pair, tagged afterwards), the
     * region scan of {@code listNodes} and of {@code createNodes}, per machine CreateInstances then its firewall, and
     * the polls of {@code awaitRunning}.
     */
    @Override
    public List<PlannedCall> plannedCalls(WorkshopSpec spec, List<IngressRule> ingress, String cidr, Instant expiresAt) {
        String key = LightsailCloud.keyPairName(spec.name());
        List<PlannedCall> calls = new ArrayList<>();
        calls.add(new PlannedCall("ImportKeyPair", "login key pair " + key));
        calls.add(new PlannedCall("TagResource", "tags on key pair " + key + " (ImportKeyPair takes none)"));
        calls.add(new PlannedCall("GetInstances", "every instance of " + spec.region() + ", to find those tagged "
                + Tags.WORKSHOP + "=" + spec.name() + " (listNodes)"));
        calls.add(new PlannedCall("GetInstances", "every instance of " + spec.region()
                + ", to adopt this workshop's before launching"));
        for (int n = 1; n <= spec.machines(); n++) {
            calls.add(new PlannedCall("CreateInstances", spec.machineName(n) + ": blueprint " + LightsailCloud.BLUEPRINT
                    + ", bundle " + sizeName(spec) + ", launch script (" + userDataFormat() + "), key pair " + key
                    + ", tags " + Tags.WORKSHOP + "," + Tags.MANAGED_BY + "," + Tags.ATTENDEE + "," + Tags.SEAT + "," + Tags.NAME + ","
                    + Tags.EXPIRES_AT + "=" + expiresAt));
            calls.add(new PlannedCall("PutInstancePublicPorts", spec.machineName(n) + ": " + ProviderProfile.admits(ingress, cidr,
                    false)));
        }
        calls.add(new PlannedCall("GetInstances", "poll the region with backoff until the " + spec.machines()
                + " instance(s) run; each machine is provisioned as soon as it runs"));
        return calls;
    }
}
