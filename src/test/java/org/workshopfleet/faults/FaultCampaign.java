package org.workshopfleet.faults;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.workshopfleet.command.CloudFactory;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.ec2.fake.RecordedCall;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * The fault campaign on EC2 ({@link CampaignEngine} with Ec2Cloud on the real SDK client against an {@link Ec2Fake}):
 * throttling at a drawn rate, exhausted zones, NotFound on the first describes after a launch, DependencyViolation on
 * the group's deletes after a terminate, lost RunInstances and TerminateInstances responses, and a vCPU quota one
 * machine short (read by the pre-check on even seeds, unreadable on odd ones so EC2 refuses at launch). Besides the
 * engine's invariants: a ready fleet has exactly one live instance per attendee in the fake; the pre-check refuses
 * before creating anything; after teardown the fake holds no instance, security group or key pair.
 *
 * <p>Run a larger campaign: {@code mvn -o -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=org.workshopfleet.faults.FaultCampaign -Dexec.args="1 1000"} (first seed, number of runs).
 */
public final class FaultCampaign implements CampaignEngine.Plugin<FaultCampaign.Draw> {

    /** The seed's drawn faults, for the report. */
    record Draw(int count, double throttle, int exhaustedZones, int notFoundPolls, int busyDeletes, boolean lostLaunch,
                boolean lostTerminate, boolean quota, List<Integer> failing, List<Integer> dropping)
            implements CampaignEngine.FaultDraw {
    }

    @Override
    public Provider provider() {
        return Provider.EC2;
    }

    @Override
    public String dirPrefix() {
        return "seed-";
    }

    @Override
    public Draw draw(Random r) {
        CampaignEngine.Attendees a = CampaignEngine.drawAttendees(r);
        return new Draw(a.count(), r.nextDouble() < 0.5 ? r.nextDouble() * 0.3 : 0.0, r.nextInt(4),
                r.nextDouble() < 0.4 ? 1 + r.nextInt(4) : 0, r.nextDouble() < 0.5 ? 1 + r.nextInt(6) : 0,
                r.nextDouble() < 0.3, r.nextDouble() < 0.2, r.nextDouble() < 0.08, a.failing(), a.dropping());
    }

    @Override
    public CampaignEngine.SeedCloud open(long seed, Draw draw, WorkshopSpec spec) {
        return new Seed(seed, draw, spec, Ec2Fake.start());
    }

    /** One seed's {@link Ec2Fake}. */
    private static final class Seed implements CampaignEngine.SeedCloud {

        private final long seed;
        private final Draw d;
        private final WorkshopSpec spec;
        private final Ec2Fake fake;
        private final List<SdkAutoCloseable> clients = new ArrayList<>();
        /** Even quota seeds are refused by the pre-check (Service Quotas readable); odd ones cannot read the quota
         * (AccessDenied) and are refused by EC2 at launch, the safety net. */
        private final boolean quotaPreChecked;
        /** t3.medium has 2 vCPUs: one machine too many. */
        private final int vcpuLimit;

        Seed(long seed, Draw d, WorkshopSpec spec, Ec2Fake fake) {
            this.seed = seed;
            this.d = d;
            this.spec = spec;
            this.fake = fake;
            this.quotaPreChecked = d.quota() && seed % 2 == 0;
            this.vcpuLimit = 2 * d.count() - 2;
        }

        @Override
        public void arm(LoopbackInstances machines) {
            fake.backend(machines);
            List<String> zones = fake.zones();
            for (int z = 0; z < d.exhaustedZones() && z < zones.size(); z++) {
                fake.capacity(zones.get(z), "t3.medium", 0);
            }
            if (d.throttle() > 0) {
                fake.faults().throttle(d.throttle(), seed);
            }
            if (d.notFoundPolls() > 0) {
                fake.notFoundDescribesAfterLaunch(d.notFoundPolls());
            }
            if (d.busyDeletes() > 0) {
                fake.groupBusyDeletesAfterTerminate(d.busyDeletes());
            }
            if (d.lostLaunch()) {
                fake.faults().failAfterNext("RunInstances", "InternalError", 1);
            }
            if (d.lostTerminate()) {
                fake.faults().failAfterNext("TerminateInstances", "InternalError", 1);
            }
            if (d.quota()) {
                fake.vcpuLimit(vcpuLimit);
                if (!quotaPreChecked) {
                    fake.quotas().failNext("AccessDeniedException", 1000);
                }
            }
        }

        @Override
        public CloudFactory clouds() {
            return fake.cloudFactory(Path.of("ami.properties"), clients);
        }

        @Override
        public boolean refusedForQuota(String error, List<String> violations) {
            if (quotaPreChecked && error.contains("(L-1216C47A) in " + spec.region() + " is " + vcpuLimit + " vCPUs")) {
                if (fake.launchedInstanceCount() != 0 || !fake.securityGroupNames().isEmpty()
                        || !fake.keyPairNames().isEmpty()) {
                    violations.add("the quota pre-check refused after creating something: "
                            + fake.launchedInstanceCount() + " instance(s), groups " + fake.securityGroupNames()
                            + ", key pairs " + fake.keyPairNames());
                }
                return true;
            }
            return !quotaPreChecked && error.contains("quota VcpuLimitExceeded")
                    && error.contains("limit " + vcpuLimit + " vCPUs");
        }

        @Override
        public String quotaInWords() {
            return "quota " + vcpuLimit + " vCPUs";
        }

        @Override
        public void checkRequests(List<String> violations) {
            // The requests EC2 gets are checked call by call in Ec2CloudContractTest; the campaign checks outcomes.
        }

        @Override
        public void checkReady(LoopbackInstances machines, List<String> violations) {
            if (fake.liveInstanceCount() != spec.count()) {
                violations.add(fake.liveInstanceCount() + " live instances in the fake for a fleet of " + spec.count());
            }
            if (machines.live() != spec.count()) {
                violations.add(machines.live() + " machines running behind the fake for a fleet of " + spec.count());
            }
        }

        @Override
        public void checkNothingLeft(List<String> violations) {
            if (fake.liveInstanceCount() != 0) {
                violations.add(fake.liveInstanceCount() + " instances left after teardown");
            }
            if (!fake.securityGroupNames().isEmpty() || !fake.keyPairNames().isEmpty()) {
                violations.add("left after teardown: groups " + fake.securityGroupNames() + ", key pairs "
                        + fake.keyPairNames());
            }
        }

        @Override
        public void countInjected(Map<String, Long> injected) {
            for (RecordedCall c : fake.calls()) {
                if (c.errorCode() != null) {
                    injected.merge(c.errorCode(), 1L, Long::sum);
                }
            }
            if (d.quota()) {
                injected.merge(quotaPreChecked ? "vCPU quota (pre-check)" : "vCPU quota (unreadable, refused at launch)",
                        1L, Long::sum);
            }
        }

        @Override
        public void close() {
            clients.forEach(SdkAutoCloseable::close);
            fake.close();
        }
    }

    static CampaignSummary campaign(Path workDir, long firstSeed, int runs, PrintStream progress) throws IOException {
        return CampaignEngine.campaign("fault campaign", "faults injected", new FaultCampaign(), workDir, firstSeed, runs,
                progress);
    }

    /** {@code FaultCampaign <first seed> <runs>}: prints the figures; exit 1 on any invariant violation. */
    public static void main(String[] args) throws IOException {
        CampaignEngine.main(args, 200, "fault-campaign", FaultCampaign::campaign);
    }
}
