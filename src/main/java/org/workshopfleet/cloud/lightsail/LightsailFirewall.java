package org.workshopfleet.cloud.lightsail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.workshopfleet.cloud.IngressExtension;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineState;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.CloudFailure;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.lightsail.model.Instance;
import software.amazon.awssdk.services.lightsail.model.InstancePortInfo;
import software.amazon.awssdk.services.lightsail.model.PortInfo;

/**
 * The instance firewalls of the workshop's machines: puts the declared {@link Firewall} on each instance, re-checks
 * instances once they run, and replaces the fleet's CIDR on the live machines ({@link IngressExtension}).
 *
 * <p>It remembers the firewall it last put on the fleet, so a wait for running machines can check them against it.
 */
final class LightsailFirewall implements IngressExtension {

    private final LightsailSession session;
    private final LightsailInstanceScan scan;
    /** The firewall this cloud last put on the fleet; {@link #recheck} compares running instances with it. */
    private final AtomicReference<Firewall> fleetFirewall = new AtomicReference<>();

    LightsailFirewall(LightsailSession session, LightsailInstanceScan scan) {
        this.session = session;
        this.scan = scan;
    }

    /** Validates what a launch needs from the context, before anything is created, and returns its firewall. */
    static Firewall declared(LaunchContext context) {
        String key = context.loginPublicKey();
        if (key == null || !key.trim().matches("ssh-[a-z0-9-]+ [A-Za-z0-9+/]+=*( [^\\r\\n]*)?")) {
            throw new BadInput("the workshop's login public key is not one OpenSSH line (ssh-ed25519 AAAA...):"
                    + " delete the key files in the state folder so a new key is generated");
        }
        String cidr = context.cidr().toString();
        if (context.ingress().isEmpty()) {
            throw new BadInput("no ingress port is declared: restore security-groups/workshop.json");
        }
        return new Firewall(context.ingress(), cidr);
    }

    /** Makes {@code firewall} the one running instances are checked against. */
    void useForFleet(Firewall firewall) {
        fleetFirewall.set(firewall);
    }

    /** PutInstancePublicPorts of the whole firewall, retried while the new instance is not visible yet. */
    void put(String name, Firewall firewall) {
        try {
            session.afterCreate(() -> session.client().putInstancePublicPorts(
                    b -> b.instanceName(name).portInfos(firewall.portInfos())));
        } catch (SdkException e) {
            throw ApiFailure.of("setting the firewall of " + name + " to " + firewall.cidr()
                    + " (its default ports 22 and 80 may still be open to the world)", session.region(), e);
        }
    }

    /** Puts the firewall on a listed instance only when the instance reports anything else. */
    void putUnlessMatching(Instance i, Firewall firewall) {
        if (i.networking() == null || !firewall.matches(i.networking().ports())) {
            put(i.name(), firewall);
        }
    }

    /**
     * Checks each instance once, as soon as a poll shows it running, against the firewall this object put on the fleet,
     * and puts it again when the instance reports anything else. Whether Lightsail accepts a Put on a pending instance,
     * and whether that Put survives the first boot, is undocumented (docs/aws-facts.md); the poll returns the ports
     * anyway, so a check that matches costs no call. A Put that fails here is an error: the machine may be open to
     * the world.
     *
     * @param checked the names already checked by earlier polls; this call adds the ones it checks
     */
    void recheck(List<String> names, Map<String, Instance> seen, Set<String> checked) {
        Firewall firewall = fleetFirewall.get();
        if (firewall == null) {
            return;
        }
        List<Callable<Machine>> repairs = new ArrayList<>();
        for (String n : names) {
            Instance i = seen.get(n);
            if (i == null || checked.contains(n)
                    || LightsailInstanceScan.machine(i).state() != MachineState.RUNNING) {
                continue;
            }
            checked.add(n);
            if (i.networking() == null || !firewall.matches(i.networking().ports())) {
                repairs.add(() -> {
                    put(n, firewall);
                    return null;
                });
            }
        }
        session.fanOut().all(repairs);
    }

    /**
     * Leaves every live instance of the workshop admitting exactly the declared ports from the new CIDR, whatever the
     * ledger says was there: IPv6 rules and aliases (another tool's, a dual-stack switch) are closed first, then one
     * Put replaces every IPv4 rule (an old CIDR, a port someone opened), and a final scan checks each running instance.
     */
    @Override
    public void replaceIngress(LaunchContext context) {
        Firewall firewall = declared(context);
        fleetFirewall.set(firewall);
        List<Callable<Machine>> tasks = new ArrayList<>();
        Set<String> running = new TreeSet<>();
        for (Instance i : scan.all().values()) {
            Machine m = session.isOurs(i.tags()) ? LightsailInstanceScan.machine(i) : null;
            if (m == null || m.state().isGone()) {
                continue;
            }
            if (m.state() == MachineState.RUNNING) {
                running.add(i.name());
            }
            List<InstancePortInfo> ports = i.networking() == null ? List.of() : i.networking().ports();
            tasks.add(() -> {
                for (PortInfo close : Firewall.closings(ports)) {
                    try {
                        session.client().closeInstancePublicPorts(b -> b.instanceName(i.name()).portInfo(close));
                    } catch (SdkException e) {
                        throw ApiFailure.of("closing IPv6 and alias rules of " + i.name(), session.region(), e);
                    }
                }
                put(i.name(), firewall);
                return m;
            });
        }
        session.fanOut().all(tasks);
        Map<String, Instance> after = scan.all();
        for (String name : running) {
            Instance i = after.get(name);
            if (i != null && (i.networking() == null || !firewall.matches(i.networking().ports()))) {
                throw new CloudFailure("the firewall of Lightsail instance " + name + " still admits more than "
                        + firewall.cidr() + " on the declared ports (changed while this ran?): re-run -Daction=allow-ip");
            }
        }
    }
}
