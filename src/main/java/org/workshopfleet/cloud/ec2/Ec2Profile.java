package org.workshopfleet.cloud.ec2;

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

/** Amazon EC2: Ubuntu 22.04 from a pinned or the latest Canonical AMI, cloud-config user data, one security group. */
public final class Ec2Profile implements ProviderProfile {

    /** The AMI pins, relative to the project root. */
    static final String AMI_PROPERTIES = "ami.properties";

    private static final CredentialsCheck CREDENTIALS = new AwsCredentials();

    @Override
    public Provider provider() {
        return Provider.EC2;
    }

    @Override
    public Cloud connect(WorkshopSpec spec, ResourceRecorder recorder, Path projectRoot) {
        return Ec2Cloud.create(spec, recorder, projectRoot.resolve(AMI_PROPERTIES));
    }

    @Override
    public UserDataFormat userDataFormat() {
        return UserDataFormat.CLOUD_CONFIG;
    }

    @Override
    public OsProfile os() {
        return OsProfile.UBUNTU_2204;
    }

    /**
     * {@code ec2:<region>:<pinned AMI>} ({@code ami.properties}); a region without a pin names Canonical's latest jammy
     * image, resolved at launch, which the recipe cannot see: pin it to make the recipe follow it.
     */
    @Override
    public String stockImage(String region, Path projectRoot) {
        return "ec2:" + region + ":" + AmiCatalog.load(projectRoot.resolve(AMI_PROPERTIES)).pinned(region)
                .orElse("latest-jammy");
    }

    @Override
    public Optional<Cidr> defaultCidr() {
        return Optional.empty();
    }

    @Override
    public String sizeName(WorkshopSpec spec) {
        return spec.instanceTypes().get(0);
    }

    @Override
    public List<String> fallbackSizes(WorkshopSpec spec) {
        return spec.instanceTypes().subList(1, spec.instanceTypes().size());
    }

    @Override
    public String machines(WorkshopSpec spec, int count) {
        return count + " × " + sizeName(spec) + " in " + spec.region();
    }

    @Override
    public boolean billed() {
        return true;
    }

    @Override
    public String priceKey(String region, String size) {
        return "ec2/" + region + "/" + size;
    }

    @Override
    public CredentialsCheck credentials() {
        return CREDENTIALS;
    }

    @Override
    public boolean findsMachinesById() {
        return true;
    }

    /**
     * What {@link Ec2Cloud} calls on an empty fleet: the vCPU pre-check ({@code checkCapacity}), {@code prepare}, the
     * tag search of {@code listNodes}, {@code createNodes} (one RunInstances per machine: each machine's user data
     * carries its own host key) and the polls of {@code awaitRunning}.
     */
    @Override
    public List<PlannedCall> plannedCalls(WorkshopSpec spec, List<IngressRule> ingress, String cidr, Instant expiresAt) {
        String type = sizeName(spec);
        String name = Ec2Workshop.resourceName(spec.name());
        String tagged = Tags.WORKSHOP + "=" + spec.name();
        List<PlannedCall> calls = new ArrayList<>();
        if (Ec2Capacity.isStandardFamily(type)) {
            calls.add(new PlannedCall("GetServiceQuota", "Service Quotas " + OnDemandVcpuQuota.SERVICE_CODE + "/"
                    + OnDemandVcpuQuota.QUOTA_CODE + ": the On-Demand vCPU quota"));
            calls.add(new PlannedCall("DescribeInstanceTypes", "the vCPUs of " + type));
            calls.add(new PlannedCall("DescribeInstances", "the vCPUs in use in " + spec.region() + "; refuse before"
                    + " anything is created if " + spec.machines() + " machine(s) do not fit"));
        }
        calls.add(new PlannedCall("DescribeImages", "the stock AMI (the " + AMI_PROPERTIES + " pin for " + spec.region()
                + ", else the latest jammy) is Canonical's (" + AmiCatalog.CANONICAL_OWNER + ")"));
        calls.add(new PlannedCall("DescribeVpcs", "the default VPC"));
        calls.add(new PlannedCall("ImportKeyPair", "login key pair " + name + ", tagged"));
        calls.add(new PlannedCall("DescribeSecurityGroups", "security group " + name + " in the default VPC"));
        calls.add(new PlannedCall("CreateSecurityGroup", "security group " + name + ", tagged"));
        calls.add(new PlannedCall("AuthorizeSecurityGroupIngress", ProviderProfile.admits(ingress, cidr, true)));
        calls.add(new PlannedCall("DescribeInstances", "live instances tagged " + tagged + " (listNodes)"));
        calls.add(new PlannedCall("DescribeInstances", "live instances tagged " + tagged
                + " to adopt before launching"));
        for (int n = 1; n <= spec.machines(); n++) {
            calls.add(new PlannedCall("RunInstances", spec.machineName(n) + ": 1 × " + type + ", user data "
                    + userDataFormat() + ", its own client token (type, zone, attendee, group), tags " + Tags.WORKSHOP
                    + "," + Tags.MANAGED_BY + "," + Tags.ATTENDEE + "," + Tags.SEAT + "," + Tags.NAME + "," + Tags.EXPIRES_AT + "="
                    + expiresAt));
        }
        calls.add(new PlannedCall("DescribeInstances", "poll the " + spec.machines() + " instance(s) by id with backoff;"
                + " each machine is provisioned as soon as it runs"));
        return calls;
    }
}
