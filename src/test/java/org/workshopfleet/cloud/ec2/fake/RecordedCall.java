package org.workshopfleet.cloud.ec2.fake;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One request the fake received, as the SDK sent it.
 *
 * @param operation the {@code Action}
 * @param params    every form parameter, URL-decoded ({@code Action} and {@code Version} included)
 * @param status    the HTTP status the fake answered with
 * @param errorCode the EC2 error code answered, or null on success
 */
public record RecordedCall(String operation, Map<String, String> params, int status, String errorCode) {
    public RecordedCall {
        params = Map.copyOf(params);
    }

    public String param(String name) {
        return params.get(name);
    }

    /** Values of a flattened list parameter: {@code list("InstanceId")} reads {@code InstanceId.1}, {@code .2}, … */
    public List<String> list(String prefix) {
        return new QueryForm(new TreeMap<>(params)).list(prefix);
    }

    /** The request's tag specifications: resource type ({@code instance}, {@code image}, …) → its tags. */
    public Map<String, Map<String, String>> tagSpecifications() {
        return new QueryForm(new TreeMap<>(params)).tagSpecifications();
    }

    public boolean failed() {
        return errorCode != null;
    }
}
