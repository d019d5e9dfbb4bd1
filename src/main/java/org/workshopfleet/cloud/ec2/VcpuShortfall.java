package org.workshopfleet.cloud.ec2;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import java.util.Locale;

/**
 * A fleet that does not fit the standard On-Demand vCPU quota, found before anything was created; {@link #refusal()}
 * is the one line the facilitator reads.
 *
 * @param region       the workshop's region (quotas are per region)
 * @param quota        the quota's value in vCPUs
 * @param inUse        vCPUs running or pending in the standard families now, or -1 when not counted (the fleet alone
 *                     exceeds the quota)
 * @param toLaunch     machines still to launch
 * @param alreadyLive  machines of this fleet already running (they are part of {@code inUse})
 * @param type         the instance type to launch
 * @param perMachine   vCPUs of one machine of that type
 */
public record VcpuShortfall(String region, long quota, long inUse, int toLaunch, int alreadyLive, String type,
                            int perMachine) {

    /** vCPUs the machines still to launch need. */
    public long needed() {
        return (long) toLaunch * perMachine;
    }

    /** The quota value that would let the fleet launch now. */
    public long desiredValue() {
        return Math.max(0, inUse) + needed();
    }

    /** The largest {@code -Dcount} that fits now (0 when none does). */
    public int countThatFits() {
        long free = quota - Math.max(0, inUse);
        return (int) Math.max(0, alreadyLive + Math.max(0, free) / Math.max(1, perMachine));
    }

    public FleetException refusal() {
        String used = inUse < 0 ? "not counted (the fleet alone exceeds the quota)" : inUse + " vCPUs";
        int fits = countThatFits();
        String smaller = fits >= 1 ? "or use -Dcount=" + fits + " or less"
                : inUse > 0 ? "or stop other instances of the standard families in " + region
                : "no fleet of " + type + " fits the quota as it is";
        String needs = inUse < 0
                ? String.format(Locale.ROOT, "a fleet of %d x %s (%d vCPUs each) needs %d vCPUs by itself", toLaunch, type,
                        perMachine, needed())
                : String.format(Locale.ROOT, "the %d machine(s) still to launch (%s, %d vCPUs each) need %d vCPUs more",
                        toLaunch, type, perMachine, needed());
        return new BadInput(String.format(Locale.ROOT, "EC2 quota '%s' (%s) in %s is %d vCPUs; in use: %s; %s:"
                        + " nothing was created; raise the quota in the Service Quotas console or with 'aws service-quotas"
                        + " request-service-quota-increase --service-code %s --quota-code %s --desired-value %d --region %s',"
                        + " %s",
                OnDemandVcpuQuota.QUOTA_NAME, OnDemandVcpuQuota.QUOTA_CODE, region, quota, used, needs,
                OnDemandVcpuQuota.SERVICE_CODE, OnDemandVcpuQuota.QUOTA_CODE, desiredValue(), region, smaller));
    }
}
