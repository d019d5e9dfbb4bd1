package org.workshopfleet.cloud.lightsail;

import java.util.List;
import org.workshopfleet.cloud.LaunchConfig;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.concurrent.FanOut;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.spec.Tags;
import software.amazon.awssdk.services.lightsail.LightsailClient;
import software.amazon.awssdk.services.lightsail.model.NotFoundException;
import software.amazon.awssdk.services.lightsail.model.Tag;

/**
 * What the parts of one workshop's Lightsail cloud share: the client, the workshop, where creates and deletes are
 * reported, how to wait, and how many per-machine calls run at once.
 *
 * @param fanOut runs per-machine calls a few at a time: Lightsail has no batch form of CreateInstances (per-machine
 *               launch script), PutInstancePublicPorts or DeleteInstance, and one at a time would make 100 machines
 *               take minutes; after the first failure no new call starts, calls in flight finish and record what they did
 */
record LightsailSession(LightsailClient client, LaunchConfig config, ResourceRecorder recorder, Waiter polling,
                        FanOut fanOut) {

    static final String WAITING_FOR = "waiting for Lightsail";
    /** Tries of a call on a just-created resource that answers NotFound. */
    private static final int NOT_FOUND_ATTEMPTS = 5;

    String region() {
        return config.region();
    }

    /** Whether a resource carries this workshop's tags (and so is this workshop's to adopt or delete). */
    boolean isOurs(List<Tag> tags) {
        return config.workshop().equals(LightsailTags.value(tags, Tags.WORKSHOP))
                && Tags.MANAGED_BY_VALUE.equals(LightsailTags.value(tags, Tags.MANAGED_BY));
    }

    /**
     * Runs a call on a resource created moments ago, retrying NotFound a few times with backoff: a new name may not
     * have reached every Lightsail endpoint yet (eventual consistency, as on EC2).
     */
    void afterCreate(Runnable call) {
        for (int attempt = 1; ; attempt++) {
            try {
                call.run();
                return;
            } catch (NotFoundException e) {
                if (attempt == NOT_FOUND_ATTEMPTS) {
                    throw e;
                }
                polling.pause(attempt - 1, WAITING_FOR);
            }
        }
    }
}
