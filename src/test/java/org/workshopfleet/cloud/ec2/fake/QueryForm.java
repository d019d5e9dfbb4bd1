package org.workshopfleet.cloud.ec2.fake;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An EC2 Query request body parsed into a map: the SDK sends parameters in service-model order, not alphabetically, so
 * nothing may depend on their order (AWS.md A1). Lists are flattened and 1-based ({@code X.1}, {@code X.2}).
 */
final class QueryForm {

    /** A {@code Filter.N}: its name and values. */
    record FilterSpec(String name, List<String> values) {
    }

    /** One {@code IpPermissions.N} flattened to one CIDR. */
    record Permission(String protocol, Integer from, Integer to, String cidr, String description) {
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
            for (int r = 1; params.containsKey(p + "IpRanges." + r + ".CidrIp"); r++) {
                out.add(new Permission(protocol, from, to, params.get(p + "IpRanges." + r + ".CidrIp"),
                        params.get(p + "IpRanges." + r + ".Description")));
            }
        }
        return out;
    }
}
