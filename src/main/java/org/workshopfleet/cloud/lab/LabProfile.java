package org.workshopfleet.cloud.lab;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
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
import org.workshopfleet.spec.WorkshopSpec;

/** The local lab: Debian 12 containers on this computer, free, in one host-only subnet (docs/lab.md). */
public final class LabProfile implements ProviderProfile {

    @Override
    public Provider provider() {
        return Provider.LAB;
    }

    @Override
    public Cloud connect(WorkshopSpec spec, ResourceRecorder recorder, Path projectRoot) {
        return new LabCloud(LabCloud.config(spec), recorder);
    }

    /** The NoCloud seed takes the same {@code #cloud-config} EC2 gets. */
    @Override
    public UserDataFormat userDataFormat() {
        return UserDataFormat.CLOUD_CONFIG;
    }

    @Override
    public OsProfile os() {
        return OsProfile.DEBIAN_12;
    }

    /** {@code lab:<base image hash>}. */
    @Override
    public String stockImage(String region, Path projectRoot) {
        return "lab:" + BaseImage.hash();
    }

    /** The lab's subnet: its machines see the host inside it, and nothing outside the host reaches it. */
    @Override
    public Optional<Cidr> defaultCidr() {
        return Optional.of(Cidr.parse(LabNetwork.SUBNET));
    }

    @Override
    public String sizeName(WorkshopSpec spec) {
        return "Debian 12 container";
    }

    @Override
    public List<String> fallbackSizes(WorkshopSpec spec) {
        return List.of();
    }

    @Override
    public String machines(WorkshopSpec spec, int count) {
        return count + " × lab machine (local)";
    }

    @Override
    public boolean billed() {
        return false;
    }

    @Override
    public String priceKey(String region, String size) {
        return "lab/" + size;
    }

    @Override
    public CredentialsCheck credentials() {
        return CredentialsCheck.NONE;
    }

    @Override
    public boolean findsMachinesById() {
        return false;
    }

    /** The host work {@link LabCloud} does on an empty fleet: checks, the base image, per machine its network and boot. */
    @Override
    public List<PlannedCall> plannedCalls(WorkshopSpec spec, List<IngressRule> ingress, String cidr, Instant expiresAt) {
        List<PlannedCall> calls = new ArrayList<>();
        calls.add(new PlannedCall("check-host", "root, " + String.join(", ", LabHost.TOOLS.keySet()) + ", overlayfs"));
        calls.add(new PlannedCall("sysctl", "fs.inotify.max_user_instances: room for " + spec.machines()
                + " machine(s) and the other lab machines on this computer"));
        calls.add(new PlannedCall("debootstrap", "the Debian 12 base image " + BaseImage.hash().substring(0, 12)
                + ", when it is not cached"));
        calls.add(new PlannedCall("list", "this workshop's lab machines (listNodes)"));
        calls.add(new PlannedCall("network", "bridge " + LabNetwork.BRIDGE + " " + LabNetwork.HOST_ADDRESS
                + " in " + LabNetwork.SUBNET + " and its iptables rules, when the first machine boots; ingress "
                + ProviderProfile.ports(ingress) + " reaches the machines only from this computer"));
        for (int n = 1; n <= spec.machines(); n++) {
            calls.add(new PlannedCall("systemd-nspawn", spec.machineName(n) + ": its network namespace and veth, then"
                    + " boot with a NoCloud seed (" + userDataFormat() + ")"));
        }
        calls.add(new PlannedCall("poll", "wait for the " + spec.machines() + " machine(s) to answer; each machine is"
                + " provisioned as soon as it runs"));
        return calls;
    }
}
