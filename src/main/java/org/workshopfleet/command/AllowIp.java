package org.workshopfleet.command;

import java.util.Optional;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.IngressExtension;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.spec.Cidr;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;
import org.workshopfleet.state.WorkshopLock;

/**
 * {@code allow-ip}: replaces the live fleet's ingress CIDR with {@code -Dcidr} (or this computer's address). Only the
 * CIDR rules change: the access {@code up} recorded stays, so a port {@code -Daccess=anywhere} opened to every address
 * stays open to it.
 */
public final class AllowIp {

    private final WorkshopContext ctx;

    /** @param ctx the workshop this command works on, and the steps it shares with the others */
    public AllowIp(WorkshopContext ctx) {
        this.ctx = ctx;
    }

    /** After confirmation (unless {@code yes} or nothing changes); 0, or refuses (2) without a ledger. */
    public int run(boolean yes) {
        StateFolder folder = ctx.requireLedger("run up first");
        try (WorkshopLock held = ctx.lock("allow-ip")) {
            return allowIpLocked(yes, folder);
        }
    }

    /** {@code 22/80/3000}: the ports of the world rules, or of the others. */
    private static String ports(java.util.List<org.workshopfleet.cloud.IngressRule> rules, boolean world) {
        return String.join("/", rules.stream().filter(r -> r.world() == world).map(r -> String.valueOf(r.port()))
                .distinct().toList());
    }

    private int allowIpLocked(boolean yes, StateFolder folder) {
        Ledger ledger = ctx.openLedger(folder);
        ctx.wiring().credentials().check(ctx.spec());
        String old = ledger.setting(WorkshopContext.SETTING_CIDR);
        Cidr cidr = ctx.resolveCidr();
        if (cidr.toString().equals(old)) {
            // The ledger may not know every rule (another run's, one added by hand): the cloud is still cleaned.
            ctx.out().println("ingress already admits " + cidr + "; removing any other rule the cloud holds");
        } else {
            ctx.out().println("allow-ip: replace ingress " + old + " with " + cidr + " on workshop " + ctx.spec().name());
            ctx.confirm(yes, "Replace the ingress CIDR?");
        }
        Secrets secrets = new Secrets(folder, ctx.spec().name());
        LaunchContext context = new LaunchContext(secrets.loginKey().publicKeyLine(), cidr,
                ctx.ingressRules(ctx.recordedAccess(ledger)), ctx.expiry(ledger));
        try (Cloud cloud = ctx.wiring().clouds().create(ctx.spec(), ledger)) {
            Optional<IngressExtension> rules = cloud.ingress();
            if (rules.isEmpty()) {
                // The lab's machines are reachable from the lab host only, whatever the CIDR: nothing to change.
                ledger.putSetting(WorkshopContext.SETTING_CIDR, cidr.toString());
                ctx.out().println(cloud.providerName() + " has no ingress rules to change; recorded " + cidr);
                return 0;
            }
            rules.get().replaceIngress(context);
        }
        ledger.putSetting(WorkshopContext.SETTING_CIDR, cidr.toString());
        boolean world = context.ingress().stream().anyMatch(r -> r.world());
        ctx.out().println("ingress now admits " + cidr + " only"
                + (world ? " on " + ports(context.ingress(), false) + "; " + ports(context.ingress(), true)
                + " stays open to every address (-Daccess=anywhere)" : ""));
        return 0;
    }
}
