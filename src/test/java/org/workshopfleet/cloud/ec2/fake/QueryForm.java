package org.workshopfleet.cloud.ec2.fake;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An EC2 Query request body parsed into a map: the SDK sends parameters in service-model order, not alphabetically, so
 * nothing may depend on their order (Amazon EC2 API Reference: Query requests for Amazon EC2). Lists are flattened and
 * 1-based ({@code X.1}, {@code X.2}).
 */
final class QueryForm {

    /** A {@code Filter.N}: its name and values. */
    record FilterSpec(String name, List<String> values) {
    }

    /**
     * The four kinds of source an {@code IpPermission} can name (EC2 API Reference, "IpPermission"): the query member
     * list, the member holding the value, and the XML element the value comes back in (DescribeSecurityGroups) and in
     * a security group rule (AuthorizeSecurityGroupIngress's {@code securityGroupRuleSet}).
     */
    enum Source {
        IPV4("IpRanges", "CidrIp", "ipRanges", "cidrIp", "cidrIpv4"),
        IPV6("Ipv6Ranges", "CidrIpv6", "ipv6Ranges", "cidrIpv6", "cidrIpv6"),
        PREFIX_LIST("PrefixListIds", "PrefixListId", "prefixListIds", "prefixListId", "prefixListId"),
        /** {@code UserIdGroupPairs}, serialised as {@code Groups} in the query and {@code groups} in XML. */
        GROUP("Groups", "GroupId", "groups", "groupId", "referencedGroupId");

        final String queryList;
        final String queryMember;
        final String xmlList;
        final String xmlMember;
        final String ruleElement;

        Source(String queryList, String queryMember, String xmlList, String xmlMember, String ruleElement) {
            this.queryList = queryList;
            this.queryMember = queryMember;
            this.xmlList = xmlList;
            this.xmlMember = xmlMember;
            this.ruleElement = ruleElement;
        }
    }

    /** One {@code IpPermissions.N} flattened to one source (an IPv4 or IPv6 range, a prefix list or a group). */
    record Permission(String protocol, Integer from, Integer to, Source kind, String source, String description) {

        /** An IPv4 rule, the older flat form's only kind. */
        Permission(String protocol, Integer from, Integer to, String cidr, String description) {
            this(protocol, from, to, Source.IPV4, cidr, description);
        }

        /** The IPv4 CIDR, IPv6 CIDR, prefix list id or group id. */
        String cidr() {
            return source;
        }
    }

    private final Map<String, String> params;

    QueryForm(Map<String, String> params) {
        this.params = params;
    }

    static QueryForm parse(String body) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String pair : body.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            map.put(key, value);
        }
        return new QueryForm(map);
    }

    Map<String, String> asMap() {
        return params;
    }

    String get(String key) {
        return params.get(key);
    }

    int intValue(String key, int fallback) {
        String v = params.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw Ec2Error.of("InvalidParameterValue", "Value (" + v + ") for parameter " + key + " is invalid.");
        }
    }

    List<String> list(String prefix) {
        List<String> out = new ArrayList<>();
        for (int i = 1; params.containsKey(prefix + "." + i); i++) {
            out.add(params.get(prefix + "." + i));
        }
        return out;
    }

    List<FilterSpec> filters() {
        List<FilterSpec> out = new ArrayList<>();
        for (int i = 1; params.containsKey("Filter." + i + ".Name"); i++) {
            out.add(new FilterSpec(params.get("Filter." + i + ".Name"), list("Filter." + i + ".Value")));
        }
        return out;
    }

    /** TagSpecification.N → resource type → tags (later specs of the same type add to earlier ones). */
    Map<String, Map<String, String>> tagSpecifications() {
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        for (int i = 1; params.containsKey("TagSpecification." + i + ".ResourceType"); i++) {
            Map<String, String> tags = out.computeIfAbsent(params.get("TagSpecification." + i + ".ResourceType"),
                    k -> new LinkedHashMap<>());
            String base = "TagSpecification." + i + ".Tag.";
            for (int t = 1; params.containsKey(base + t + ".Key"); t++) {
                tags.put(params.get(base + t + ".Key"), params.getOrDefault(base + t + ".Value", ""));
            }
        }
        return out;
    }

    List<Permission> permissions() {
        List<Permission> out = new ArrayList<>();
        for (int i = 1; params.containsKey("IpPermissions." + i + ".IpProtocol"); i++) {
            String p = "IpPermissions." + i + ".";
            String protocol = params.get(p + "IpProtocol");
            Integer from = params.containsKey(p + "FromPort") ? intValue(p + "FromPort", 0) : null;
            Integer to = params.containsKey(p + "ToPort") ? intValue(p + "ToPort", 0) : null;
            for (Source kind : Source.values()) {
                String list = p + kind.queryList + ".";
                for (int r = 1; params.containsKey(list + r + "." + kind.queryMember); r++) {
                    out.add(new Permission(protocol, from, to, kind, params.get(list + r + "." + kind.queryMember),
                            params.get(list + r + ".Description")));
                }
            }
        }
        return out;
    }
}
