package org.workshopfleet.cloud.ec2;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.workshopfleet.error.BadInput;
import software.amazon.awssdk.services.ec2.Ec2Client;

/** Default vCPUs per instance type: one {@code DescribeInstanceTypes} per type, remembered for the cloud's life. */
final class Ec2InstanceTypes {

    private final Ec2Client ec2;
    private final String region;
    private final Map<String, Integer> vcpusByType = new ConcurrentHashMap<>();

    Ec2InstanceTypes(Ec2Client ec2, String region) {
        this.ec2 = ec2;
        this.region = region;
    }

    /** The type's default vCPUs; a type EC2 does not know is a refusal naming the option to change. */
    int vcpus(String type) {
        Integer known = vcpusByType.get(type);
        if (known != null) {
            return known;
        }
        int v = ec2.describeInstanceTypes(r -> r.instanceTypesWithStrings(type)).instanceTypes().stream()
                .findFirst().map(t -> t.vCpuInfo().defaultVCpus())
                .orElseThrow(() -> new BadInput("EC2 does not know instance type " + type + " in " + region
                        + ": choose another -DinstanceType"));
        vcpusByType.put(type, v);
        return v;
    }
}
