package org.workshopfleet.command;

import java.io.PrintStream;
import java.util.Collection;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;

/**
 * The recorder {@code teardown} hands the cloud: passes every record on to the ledger first (so the record is on disk
 * before anything is printed), then prints one line per deleted resource, so a facilitator watching a long teardown
 * sees each machine go and the shared resources removed. Machines are named as the ledger knows them; ones found only
 * by tag are named by id.
 */
final class TeardownProgress implements ResourceRecorder {

    private final ResourceRecorder ledger;
    private final PrintStream out;
    private final Map<String, String> names = new HashMap<>();

    TeardownProgress(ResourceRecorder ledger, Collection<CloudResource> known, PrintStream out) {
        this.ledger = ledger;
        this.out = out;
        known.forEach(r -> names.put(r.id(), r.name()));
    }

    @Override
    public void created(CloudResource resource) {
        ledger.created(resource);
    }

    @Override
    public void deleted(ResourceKind kind, String id) {
        ledger.deleted(kind, id);
        String name = names.get(id);
        String label = name == null || name.equals(id) ? id : name + " (" + id + ")";
        out.println("  " + switch (kind) {
            case INSTANCE, LAB_MACHINE -> "machine " + label + " destroyed";
            case SECURITY_GROUP -> "security group " + label + " removed";
            case KEY_PAIR -> "key pair " + label + " removed";
            default -> kind.name().toLowerCase(Locale.ROOT).replace('_', ' ') + " " + label + " removed";
        });
    }
}
