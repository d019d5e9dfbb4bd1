package org.workshopfleet.faults;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.workshopfleet.command.CloudFactory;
import org.workshopfleet.cloud.lightsail.LightsailCloud;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.cloud.lightsail.fake.Fault;
import org.workshopfleet.cloud.lightsail.fake.LightsailFake;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;

/**
 * The fault campaign on Lightsail ({@link CampaignEngine} with {@link LightsailCloud} on the real SDK client against a
 * {@link LightsailFake}, whose loopback machines boot from the product's real launch script), with faults drawn from
 * the fake's table: throttling or 500s at a rate, lost create/import responses, NotFound right after a create, a
 * firewall change refused while pending, the default firewall coming back at boot, failing deletes, the instance quota.
 *
 * <p>Besides the engine's invariants: every PutInstancePublicPorts the product sent opens exactly tcp 22, 80, 3000 and 443
 * to the facilitator's CIDR (nothing else, no IPv6), every launched instance got one, and every ready instance has
 * exactly those rules; after teardown the fake holds no instance and no key pair of the workshop.
 *
 * <p>Command: {@code mvn -B -o -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=org.workshopfleet.faults.LightsailCampaign -Dexec.args="1 100"} (first seed, runs).
 */
public final class LightsailCampaign implements CampaignEngine.Plugin<LightsailCampaign.Draw> {

    static final String CIDR = CampaignEngine.CIDR;
    /** Millisecond polling: the campaign spends its time on calls and SSH, not on sleeps. */
    static final Waiter QUICK = new Waiter(Duration.ofMillis(5), Duration.ofMillis(40), 2, 0, Duration.ofSeconds(10));

    /** Exactly tcp 22, 80, 3000 and 443 from the facilitator's CIDR, no IPv6: what security-groups/workshop.json asks. */
    static final Set<String> EXPECTED_RULES = Set.of("tcp 22-22 [" + CIDR + "] []", "tcp 80-80 [" + CIDR + "] []",
            "tcp 3000-3000 [" + CIDR + "] []", "tcp 443-443 [" + CIDR + "] []");

    /** The seed's drawn faults. */
    record Draw(int count, Fault rateFault, double rate, int pendingPolls, boolean lostCreate, boolean lostImport,
                int notFoundPuts, boolean notReadyPut, boolean notFoundTag, boolean resetPorts, int failingDeletes,
                boolean quota, List<Integer> failing, List<Integer> dropping) implements CampaignEngine.FaultDraw {
    }

    @Override
    public Provider provider() {
        return Provider.LIGHTSAIL;
    }

    @Override
    public String dirPrefix() {
        return "lightsail-";
    }

    @Override
    public Draw draw(Random r) {
        CampaignEngine.Attendees a = CampaignEngine.drawAttendees(r);
        double p = r.nextDouble();
        Fault rateFault = p < 0.4 ? Fault.THROTTLING : p < 0.6 ? Fault.SERVICE_ERROR : null;
        double rate = rateFault == Fault.THROTTLING ? r.nextDouble() * 0.3 : rateFault == null ? 0 : r.nextDouble() * 0.15;
        return new Draw(a.count(), rateFault, rate, 1 + r.nextInt(4), r.nextDouble() < 0.3, r.nextDouble() < 0.2,
                r.nextDouble() < 0.4 ? 1 + r.nextInt(3) : 0, r.nextDouble() < 0.3, r.nextDouble() < 0.2,
                r.nextDouble() < 0.5, r.nextDouble() < 0.25 ? 1 + r.nextInt(2) : 0, r.nextDouble() < 0.08,
                a.failing(), a.dropping());
    }

    @Override
    public CampaignEngine.SeedCloud open(long seed, Draw draw, WorkshopSpec spec) {
        return new Seed(seed, draw, spec, LightsailFake.start(spec.region()));
    }

    /** One seed's {@link LightsailFake}. */
    private static final class Seed implements CampaignEngine.SeedCloud {

        private final long seed;
        private final Draw d;
        private final WorkshopSpec spec;
        private final LightsailFake fake;
        private final List<LightsailCloud> clouds = new ArrayList<>();
        /** One machine short. */
        private final int instanceQuota;

        Seed(long seed, Draw d, WorkshopSpec spec, LightsailFake fake) {
            this.seed = seed;
            this.d = d;
            this.spec = spec;
            this.fake = fake;
            this.instanceQuota = d.count() - 1;
        }

        @Override
        public void arm(LoopbackInstances machines) {
            fake.backend(machines).pendingPolls(d.pendingPolls()).resetPortsAtBoot(d.resetPorts());
            if (d.rateFault() != null) {
                fake.faultRate(d.rate(), seed, d.rateFault());
            }
            if (d.lostCreate()) {
                fake.failNext("CreateInstances", Fault.LOST_RESPONSE);
            }
            if (d.lostImport()) {
                fake.failNext("ImportKeyPair", Fault.LOST_RESPONSE);
            }
            for (int i = 0; i < d.notFoundPuts(); i++) {
                fake.failNext("PutInstancePublicPorts", Fault.NOT_FOUND);
            }
            if (d.notReadyPut()) {
                fake.failNext("PutInstancePublicPorts", Fault.NOT_READY);
            }
            if (d.notFoundTag()) {
                fake.failNext("TagResource", Fault.NOT_FOUND);
            }
            for (int i = 0; i < d.failingDeletes(); i++) {
                fake.failNext("DeleteInstance", Fault.SERVICE_ERROR);
            }
            if (d.quota()) {
                fake.instanceQuota(instanceQuota);
            }
        }

        @Override
        public CloudFactory clouds() {
            return (s, recorder) -> {
                LightsailCloud c = new LightsailCloud(fake.newClient(), LightsailCloud.config(s), recorder, QUICK);
                synchronized (clouds) {
                    clouds.add(c);
                }
                return c;
            };
        }

        @Override
        public boolean refusedForQuota(String error, List<String> violations) {
            return error.contains("QuotaExceeded") && error.contains("limits");
        }

        @Override
        public String quotaInWords() {
            return "instance quota " + instanceQuota;
        }

        @Override
        public void checkRequests(List<String> violations) {
            Set<String> firewalled = new TreeSet<>();
            for (LightsailFake.Request r : fake.requests()) {
                if (!r.operation().equals("PutInstancePublicPorts")) {
                    continue;
                }
                Set<String> rules = new TreeSet<>();
                int n = 0;
                for (JsonNode p : r.body().path("portInfos")) {
                    n++;
                    List<String> cidrs = new ArrayList<>();
                    p.path("cidrs").forEach(c -> cidrs.add(c.asText()));
                    List<String> v6 = new ArrayList<>();
                    p.path("ipv6Cidrs").forEach(c -> v6.add(c.asText()));
                    rules.add(p.path("protocol").asText() + " " + p.path("fromPort").asInt() + "-"
                            + p.path("toPort").asInt() + " " + cidrs + " " + v6);
                }
                if (n != EXPECTED_RULES.size() || !rules.equals(EXPECTED_RULES)) {
                    violations.add("PutInstancePublicPorts for " + r.body().path("instanceName").asText() + " opened "
                            + rules);
                }
                if (r.succeeded()) {
                    firewalled.add(r.body().path("instanceName").asText());
                }
            }
            Set<String> launched = new TreeSet<>();
            fake.requests().stream().filter(r -> r.operation().equals("CreateInstances") && r.succeeded())
                    .forEach(r -> r.body().path("instanceNames").forEach(x -> launched.add(x.asText())));
            if (!firewalled.containsAll(launched)) {
                violations.add("launched " + launched + " but put the firewall only on " + firewalled);
            }
        }

        @Override
        public void checkReady(LoopbackInstances machines, List<String> violations) {
            List<LightsailFake.InstanceView> instances = fake.instances();
            if (instances.size() != spec.count() || machines.live() != spec.count()) {
                violations.add(instances.size() + " instances in the fake and " + machines.live()
                        + " machines running for a fleet of " + spec.count());
            }
            for (LightsailFake.InstanceView i : instances) {
                Set<String> rules = new TreeSet<>();
                i.ports().forEach(p -> rules.add(p.protocol() + " " + p.fromPort() + "-" + p.toPort() + " " + p.cidrs()
                        + " " + p.ipv6Cidrs()));
                if (!rules.equals(EXPECTED_RULES) || i.ports().size() != EXPECTED_RULES.size()) {
                    violations.add("ready instance " + i.name() + " has firewall " + rules);
                }
            }
        }

        @Override
        public void checkNothingLeft(List<String> violations) {
            if (!fake.instances().isEmpty() || !fake.keyPairNames().equals(Set.of(LightsailFake.DEFAULT_KEY_PAIR))) {
                violations.add("left after teardown: instances " + fake.instances().stream()
                        .map(LightsailFake.InstanceView::name).toList() + ", key pairs " + fake.keyPairNames());
            }
        }

        @Override
        public void countInjected(Map<String, Long> injected) {
            for (LightsailFake.Request r : fake.requests()) {
                if (r.errorType() != null) {
                    injected.merge(r.operation() + ":" + r.errorType(), 1L, Long::sum);
                }
            }
            if (d.resetPorts()) {
                injected.put("default firewall back at boot", (long) d.count());
            }
        }

        @Override
        public void close() {
            clouds.forEach(LightsailCloud::close);
            fake.close();
        }
    }

    static CampaignSummary campaign(Path workDir, long firstSeed, int runs, PrintStream progress) throws IOException {
        return CampaignEngine.campaign("Lightsail fault campaign", "faults and errors (cloud errors as operation:type,"
                + " injected or provoked by an injected one, e.g. NameExists after a lost response)", new LightsailCampaign(),
                workDir, firstSeed, runs, progress);
    }

    /** {@code LightsailCampaign <first seed> <runs>}: prints the figures; exit 1 on any invariant violation. */
    public static void main(String[] args) throws IOException {
        CampaignEngine.main(args, 100, "lightsail-campaign", LightsailCampaign::campaign);
    }
}
