package org.workshopfleet.cloud.lightsail;

import org.workshopfleet.spec.Cidr;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.workshopfleet.cloud.CloudScenario;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.cloud.RecordedResources;
import org.workshopfleet.cloud.lightsail.fake.LightsailFake;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.SourceLocations;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.ssh.SshKeyPair;

/** What the contract tests and the call-count benchmark share: a workshop, its launch context and requests. */
final class LightsailScenario {

    static final String WORKSHOP = "ws-test";
    static final String CIDR = "203.0.113.7/32";
    /** Millisecond polling, so tests spend their time on calls, not sleeps. */
    static final Waiter QUICK = new Waiter(Duration.ofMillis(5), Duration.ofMillis(40), 2, 0, Duration.ofSeconds(10));

    private LightsailScenario() {
    }

    static WorkshopSpec spec(int count) {
        return new WorkshopSpec(WORKSHOP, count, Provider.LIGHTSAIL, "ap-northeast-1", null, "medium_3_0", Cidr.parse(CIDR), false,
                null, 8, Path.of("target/workshops"), SourceLocations.defaults());
    }

    static LaunchContext context(SshKeyPair loginKey) {
        return CloudScenario.context(loginKey.publicKeyLine(), CIDR, Instant.now().plus(Duration.ofHours(12)));
    }

    /** A distinct launch script per machine, as the real renderer produces (host keys differ per machine). */
    static String launchScript(int attendee) {
        return "#!/bin/bash\nset -euo pipefail\necho 'machine " + attendee + "' > /etc/workshop-fleet-attendee\n";
    }

    static List<NodeRequest> requests(WorkshopSpec spec, int from, int to) {
        return CloudScenario.requests(LightsailCloud.config(spec), from, to, LightsailScenario::launchScript,
                n -> Map.of("Purpose", "contract-test"));
    }

    static LightsailCloud cloud(LightsailFake fake, WorkshopSpec spec, RecordedResources recorder) {
        return new LightsailCloud(fake.newClient(), LightsailCloud.config(spec), recorder, QUICK);
    }

    /** prepare + createNodes + awaitRunning, the order the orchestrator uses. */
    static List<Machine> up(LightsailCloud cloud, LaunchContext context, List<NodeRequest> requests) {
        return CloudScenario.up(cloud, context, requests, Duration.ofSeconds(20));
    }
}
