package org.workshopfleet.cloud.ec2;

import java.util.HashSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.workshopfleet.cloud.CapacityExtension;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesRequest;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.Reservation;

/**
 * The vCPU pre-check: whether the workshop's fleet fits the account's standard On-Demand vCPU quota
 * ({@link OnDemandVcpuQuota}), told before anything is created ({@link VcpuShortfall} is the refusal).
 */
final class Ec2Capacity implements CapacityExtension {

    private final Ec2Client ec2;
    private final Ec2Workshop workshop;
    private final OnDemandVcpuQuota quota;
    private final Ec2InstanceTypes types;

    Ec2Capacity(Ec2Client ec2, Ec2Workshop workshop, OnDemandVcpuQuota quota, Ec2InstanceTypes types) {
        this.ec2 = ec2;
        this.workshop = workshop;
        this.quota = Objects.requireNonNull(quota, "quota");
        this.types = types;
    }

    /**
     * Cheapest refusal first: the quota (Service Quotas, no EC2 call); the vCPUs of one machine
     * (DescribeInstanceTypes); "the fleet alone does not fit" needs nothing more; else one DescribeInstances over the
     * region counts what runs in the standard families (this workshop's live machines included, which are not launched
     * again). Read-only calls only; nothing is created.
     */
    @Override
    public Optional<String> checkCapacity(int fleetSize) {
        if (fleetSize < 1) {
            return Optional.empty();
        }
        String region = workshop.region();
        String type = workshop.config().sizes().get(0);
        if (!isStandardFamily(type)) {
            return Optional.of("the vCPU pre-check covers the standard families (A, C, D, H, I, M, R, T, Z) only, not "
                    + type + ": launching without it; EC2 refuses at launch what its quota does not allow");
        }
        OnDemandVcpuQuota.Reading reading = quota.read();
        if (!reading.known()) {
            return Optional.of("cannot read the EC2 vCPU quota '" + OnDemandVcpuQuota.QUOTA_NAME + "' ("
                    + OnDemandVcpuQuota.QUOTA_CODE + ") in " + region + ": " + reading.unreadable()
                    + "; launching without the pre-check (EC2 refuses at launch what does not fit; allow"
                    + " servicequotas:GetServiceQuota to be told before)");
        }
        long limit = (long) Math.floor(reading.vcpus());
        return workshop.call("capacity check", () -> {
            int perMachine = types.vcpus(type);
            if ((long) fleetSize * perMachine > limit) {
                throw new VcpuShortfall(region, limit, -1, fleetSize, 0, type, perMachine).refusal();
            }
            long inUse = 0;
            Set<Integer> live = new HashSet<>();
            DescribeInstancesRequest request = DescribeInstancesRequest.builder()
                    .filters(Ec2Calls.filter("instance-state-name", Ec2Instances.LIVE_STATES)).maxResults(1000).build();
            for (Reservation r : ec2.describeInstancesPaginator(request).reservations()) {
                for (Instance i : r.instances()) {
                    String state = i.state() == null ? "" : i.state().nameAsString();
                    if (workshop.isOurs(i.tags())) {
                        int attendee = workshop.machine(i).attendee();
                        if (attendee >= 1 && attendee <= fleetSize) {
                            live.add(attendee);
                        }
                    }
                    if ((state.equals("pending") || state.equals("running")) && countsAgainstQuota(i)) {
                        inUse += vcpus(i);
                    }
                }
            }
            int missing = fleetSize - live.size();
            if (missing > 0 && inUse + (long) missing * perMachine > limit) {
                throw new VcpuShortfall(region, limit, inUse, missing, live.size(), type, perMachine).refusal();
            }
            return Optional.<String>empty();
        });
    }

    /**
     * Whether a type belongs to the standard quota: first letter A, C, D, H, I, M, R, T or Z, except the families
     * with quotas of their own (DL, Inf, Trn) and Mac (Dedicated Hosts only).
     */
    static boolean isStandardFamily(String type) {
        String t = type.toLowerCase(Locale.ROOT);
        if (t.isEmpty() || "acdhimrtz".indexOf(t.charAt(0)) < 0) {
            return false;
        }
        return !(t.startsWith("dl") || t.startsWith("inf") || t.startsWith("trn") || t.startsWith("mac"));
    }

    /** On-Demand, standard family: Spot instances have quotas of their own. */
    private static boolean countsAgainstQuota(Instance i) {
        return i.instanceLifecycle() == null && i.instanceTypeAsString() != null && isStandardFamily(i.instanceTypeAsString());
    }

    /** An instance's vCPUs as it runs (cores x threads), else its type's default. */
    private int vcpus(Instance i) {
        if (i.cpuOptions() != null && i.cpuOptions().coreCount() != null && i.cpuOptions().threadsPerCore() != null) {
            return i.cpuOptions().coreCount() * i.cpuOptions().threadsPerCore();
        }
        return types.vcpus(i.instanceTypeAsString());
    }
}
