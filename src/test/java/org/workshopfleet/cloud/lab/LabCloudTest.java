package org.workshopfleet.cloud.lab;

import org.workshopfleet.spec.Cidr;
import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;

/** What the lab cloud decides before touching the host (no root needed). */
class LabCloudTest {

    @TempDir
    Path tmp;

    @Test
    void speaksCloudConfigAndNamesAttendeesFromMachineNames() {
        LabCloud cloud = new LabCloud(LabCloud.config(WorkshopSpec.defaults(2, Provider.LAB)), ResourceRecorder.NONE);
        assertEquals("lab", cloud.providerName());
        assertEquals(UserDataFormat.CLOUD_CONFIG, cloud.profile().userDataFormat());
        assertEquals(7, LabCloud.attendeeOf("ebpf-php-07"));
        assertEquals(12, LabCloud.attendeeOf("ebpf-php-12"));
        assertEquals(0, LabCloud.attendeeOf("other"));
    }

    @Test
    void refusesUserDataThatIsNotCloudConfigBeforeCreatingAnything() {
        List<CloudResource> recorded = new ArrayList<>();
        ResourceRecorder recorder = new ResourceRecorder() {
            @Override
            public void created(CloudResource resource) {
                recorded.add(resource);
            }

            @Override
            public void deleted(ResourceKind kind, String id) {
            }
        };
        LabMachines machines = new LabMachines("ebpf-php", new LabPaths(tmp.resolve("cache"), tmp.resolve("run")));
        LabCloud cloud = new LabCloud(LabCloud.config(WorkshopSpec.defaults(1, Provider.LAB)), recorder, machines);
        LaunchContext ctx = new LaunchContext("ssh-ed25519 AAAA x", Cidr.parse("192.0.2.1/32"), List.of(), Instant.now());
        FleetException e = assertThrows(FleetException.class, () -> cloud.createNodes(ctx,
                List.of(new NodeRequest(1, "ebpf-php-01", "#!/bin/bash\necho hi\n", Map.of()))));
        assertTrue(e.getMessage().contains("#cloud-config"), e.getMessage());
        assertTrue(recorded.isEmpty());
        assertTrue(!tmp.resolve("run").toFile().exists(), "nothing written on the host");
    }
}
