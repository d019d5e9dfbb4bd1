package org.workshopfleet.cloud.lightsail;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.workshopfleet.cloud.IngressRule;
import software.amazon.awssdk.services.lightsail.model.InstancePortInfo;
import software.amazon.awssdk.services.lightsail.model.PortInfo;

/**
 * A Lightsail instance firewall holding exactly the declared ingress for one IPv4 CIDR (a world rule: for every IPv4
 * address) and nothing else. World rules get no {@code ipv6Cidrs}: the instances are launched IPv4-only, so an IPv6
 * rule would admit nobody.
 * PutInstancePublicPorts replaces the whole IPv4 firewall, so sending {@link #portInfos()} also closes the 22 and 80
 * that OS blueprints open to {@code 0.0.0.0/0}, and any other port someone opened. Instances are launched IPv4-only, but
 * one switched to dual-stack has IPv6 rules, and a rule may name the {@code lightsail-connect} alias; whether a Put
 * without them removes them is not documented, so {@link #closings} lists them to be closed explicitly.
 */
record Firewall(List<IngressRule> ingress, String cidr) {

    Firewall {
        ingress = List.copyOf(ingress);
    }

    List<PortInfo> portInfos() {
        List<PortInfo> out = new ArrayList<>();
        for (IngressRule r : ingress) {
            out.add(PortInfo.builder().fromPort(r.port()).toPort(r.port()).protocol(r.protocol()).cidrs(r.ipv4Source(cidr))
                    .build());
        }
        return out;
    }

    /** Whether an instance's reported firewall is exactly this one (so a re-run need not Put it again). */
    boolean matches(Collection<InstancePortInfo> actual) {
        Set<String> want = new HashSet<>();
        ingress.forEach(r -> want.add(key(r.port(), r.port(), r.protocol(), List.of(r.ipv4Source(cidr)))));
        Set<String> have = new HashSet<>();
        for (InstancePortInfo p : actual) {
            if (p.hasIpv6Cidrs() && !p.ipv6Cidrs().isEmpty()
                    || p.hasCidrListAliases() && !p.cidrListAliases().isEmpty()) {
                return false;
            }
            if (!p.hasCidrs()) {
                return false;   // an old-style entry without cidrs: cannot tell, so re-apply
            }
            have.add(key(p.fromPort(), p.toPort(), p.protocolAsString(), p.cidrs()));
        }
        return want.equals(have) && have.size() == actual.size();
    }

    /**
     * What a Put of this firewall might leave open on an instance reporting {@code actual}: each rule's IPv6 CIDRs and
     * aliases, as CloseInstancePublicPorts port infos (IPv4 sources are left to the Put, so IPv4 access never lapses).
     */
    static List<PortInfo> closings(Collection<InstancePortInfo> actual) {
        List<PortInfo> out = new ArrayList<>();
        for (InstancePortInfo p : actual) {
            List<String> v6 = p.hasIpv6Cidrs() ? p.ipv6Cidrs() : List.of();
            List<String> aliases = p.hasCidrListAliases() ? p.cidrListAliases() : List.of();
            if (!v6.isEmpty() || !aliases.isEmpty()) {
                PortInfo.Builder b = PortInfo.builder().fromPort(p.fromPort()).toPort(p.toPort())
                        .protocol(p.protocolAsString());
                if (!v6.isEmpty()) {
                    b.ipv6Cidrs(v6);
                }
                if (!aliases.isEmpty()) {
                    b.cidrListAliases(aliases);
                }
                out.add(b.build());
            }
        }
        return out;
    }

    private static String key(Integer from, Integer to, String protocol, List<String> cidrs) {
        return from + "-" + to + "/" + protocol + " " + cidrs.stream().sorted().toList();
    }
}
