package org.workshopfleet.cloud.ec2;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.workshopfleet.cloud.IngressRule;
import software.amazon.awssdk.services.ec2.model.IpPermission;
import software.amazon.awssdk.services.ec2.model.IpRange;
import software.amazon.awssdk.services.ec2.model.Ipv6Range;
import software.amazon.awssdk.services.ec2.model.PrefixListId;
import software.amazon.awssdk.services.ec2.model.SecurityGroup;
import software.amazon.awssdk.services.ec2.model.UserIdGroupPair;

/**
 * One ingress rule as EC2 stores it: protocol, port range and one source of any kind, so that a rule someone added
 * for an IPv6 range, a prefix list or another group is seen (and revoked) like an IPv4 one.
 */
record Ec2Permission(String protocol, Integer from, Integer to, Source kind, String source) {

    /** Which of an {@link IpPermission}'s four source lists a rule comes from. */
    enum Source { IPV4, IPV6, PREFIX_LIST, GROUP }

    /** Every rule the group holds, one per source. */
    static Set<Ec2Permission> of(SecurityGroup group) {
        Set<Ec2Permission> out = new LinkedHashSet<>();
        for (IpPermission p : group.ipPermissions()) {
            p.ipRanges().forEach(r -> out.add(new Ec2Permission(p.ipProtocol(), p.fromPort(), p.toPort(), Source.IPV4,
                    r.cidrIp())));
            p.ipv6Ranges().forEach(r -> out.add(new Ec2Permission(p.ipProtocol(), p.fromPort(), p.toPort(),
                    Source.IPV6, r.cidrIpv6())));
            p.prefixListIds().forEach(r -> out.add(new Ec2Permission(p.ipProtocol(), p.fromPort(), p.toPort(),
                    Source.PREFIX_LIST, r.prefixListId())));
            p.userIdGroupPairs().forEach(r -> out.add(new Ec2Permission(p.ipProtocol(), p.fromPort(), p.toPort(),
                    Source.GROUP, r.groupId())));
        }
        return out;
    }

    /**
     * The rules the workshop declares, each admitting {@code cidr}, and a world rule every IPv4 and every IPv6 address:
     * a security group holds IPv6 rules in any VPC, so an instance with an IPv6 address is reachable on that port too.
     */
    static Set<Ec2Permission> of(List<IngressRule> rules, String cidr) {
        Set<Ec2Permission> out = new LinkedHashSet<>();
        for (IngressRule rule : rules) {
            out.add(new Ec2Permission(rule.protocol(), rule.port(), rule.port(), Source.IPV4, rule.ipv4Source(cidr)));
            if (rule.world()) {
                out.add(new Ec2Permission(rule.protocol(), rule.port(), rule.port(), Source.IPV6,
                        IngressRule.EVERY_IPV6));
            }
        }
        return out;
    }

    /** The rules of {@code a} that are not in {@code b}. */
    static Set<Ec2Permission> difference(Set<Ec2Permission> a, Set<Ec2Permission> b) {
        Set<Ec2Permission> out = new LinkedHashSet<>(a);
        out.removeAll(b);
        return out;
    }

    IpPermission toSdk(String description) {
        IpPermission.Builder b = IpPermission.builder().ipProtocol(protocol).fromPort(from).toPort(to);
        return switch (kind) {
            case IPV4 -> b.ipRanges(IpRange.builder().cidrIp(source).description(description).build()).build();
            case IPV6 -> b.ipv6Ranges(Ipv6Range.builder().cidrIpv6(source).description(description).build()).build();
            case PREFIX_LIST -> b.prefixListIds(PrefixListId.builder().prefixListId(source).build()).build();
            case GROUP -> b.userIdGroupPairs(UserIdGroupPair.builder().groupId(source).build()).build();
        };
    }
}
