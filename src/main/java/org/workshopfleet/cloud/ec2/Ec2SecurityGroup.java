package org.workshopfleet.cloud.ec2;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.IngressExtension;
import org.workshopfleet.cloud.IngressRule;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.CloudFailure;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.IpPermission;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.SecurityGroup;
import software.amazon.awssdk.services.ec2.model.Vpc;

/**
 * The workshop's security group, {@code workshop-fleet-<workshop>} in the region's default VPC: created or adopted,
 * its ingress made exactly the declared ports from one CIDR (new rules authorized before others are revoked, so the
 * facilitator is never locked out midway), and deleted by teardown once the terminated instances' network interfaces
 * let go of it.
 */
final class Ec2SecurityGroup implements IngressExtension {

    /** Longest retry of {@code DependencyViolation} on deletion: ENIs linger for minutes after termination. */
    static final Duration DELETE_TIMEOUT = Duration.ofMinutes(5);
    /** Retries of a call on a group that has not propagated yet. */
    private static final int NOT_FOUND_RETRIES = 8;

    private final Ec2Client ec2;
    private final Ec2Workshop workshop;
    private final ResourceRecorder recorder;
    private final Waiter waiting;
    private final Ec2Instances instances;
    /** The group's id once prepared or looked up; null after teardown. */
    private String groupId;

    Ec2SecurityGroup(Ec2Client ec2, Ec2Workshop workshop, ResourceRecorder recorder, Waiter waiting,
                     Ec2Instances instances) {
        this.ec2 = ec2;
        this.workshop = workshop;
        this.recorder = recorder;
        this.waiting = waiting;
        this.instances = instances;
    }

    String name() {
        return workshop.resourceName();
    }

    /** The region's default VPC, where the group lives; none is a refusal naming how to make one. */
    String defaultVpc() {
        List<Vpc> vpcs = ec2.describeVpcs(r -> r.filters(Ec2Calls.filter("is-default", "true"))).vpcs();
        if (vpcs.isEmpty()) {
            throw new BadInput("region " + workshop.region() + " has no default VPC: create one with 'aws ec2"
                    + " create-default-vpc --region " + workshop.region() + "' or choose another -Dregion");
        }
        return vpcs.get(0).vpcId();
    }

    /**
     * Creates or adopts the group in this VPC, then makes its ingress exactly the declared ports from the context's
     * CIDR: a new group has no ingress, so nothing is described again; an adopted one's rules are diffed.
     */
    void ensure(String vpcId, LaunchContext context) {
        Set<Ec2Permission> current = new LinkedHashSet<>();
        groupId = createOrAdopt(vpcId, current);
        Set<Ec2Permission> desired = Ec2Permission.of(context.ingress(), context.cidr().toString());
        authorize(Ec2Permission.difference(desired, current), context.ingress());
        revoke(Ec2Permission.difference(current, desired));
    }

    /**
     * Makes the group admit exactly the context's CIDR on the declared ports, whatever the ledger says was there: the new
     * rules are authorized first (the facilitator is never locked out midway), then every other rule the group holds —
     * an older CIDR, one a concurrent or earlier run added, an IPv6 range, a prefix list, a group reference — is
     * revoked in one call.
     */
    @Override
    public void replaceIngress(LaunchContext context) {
        String next = context.cidr().toString();
        workshop.call("allow-ip", () -> {
            groupId = id();
            Set<Ec2Permission> current = Ec2Permission.of(describe(groupId));
            Set<Ec2Permission> desired = Ec2Permission.of(context.ingress(), next);
            authorize(Ec2Permission.difference(desired, current), context.ingress());
            revoke(Ec2Permission.difference(current, desired));
            return null;
        });
    }

    /** The group's id: as prepared, else found by name and tag; a workshop without one is told to run up. */
    String id() {
        if (groupId == null) {
            groupId = findByName(null).filter(g -> workshop.isOurs(g.tags())).map(SecurityGroup::groupId)
                    .orElseThrow(() -> new BadInput("workshop '" + workshop.config().workshop() + "' has no security"
                            + " group on EC2 yet: run -Daction=up, which prepares it before launching"));
        }
        return groupId;
    }

    /** The ids of the groups tagged as this workshop's (the ledger may have lost them). */
    List<String> findOurs() {
        return ec2.describeSecurityGroupsPaginator(r -> r.filters(workshop.tagFilters()))
                .securityGroups().stream().map(SecurityGroup::groupId).toList();
    }

    /**
     * Deletes the group, retrying while it is in use: the terminated instances' network interfaces hold it for
     * minutes (docs/aws-facts.md), and an instance launched moments before a crash may only now be visible, so live
     * instances of the workshop found meanwhile are terminated too.
     */
    void delete(String id) {
        Duration timeout = waiting.timeout().compareTo(DELETE_TIMEOUT) < 0 ? waiting.timeout() : DELETE_TIMEOUT;
        Instant deadline = Instant.now().plus(timeout);
        for (int attempt = 0; ; attempt++) {
            try {
                ec2.deleteSecurityGroup(r -> r.groupId(id));
                break;
            } catch (Ec2Exception e) {
                String code = Ec2Calls.code(e);
                if ("InvalidGroup.NotFound".equals(code)) {
                    break;
                }
                if (!"DependencyViolation".equals(code)) {
                    throw e;
                }
                List<String> stragglers = instances.live().stream().map(Machine::id).toList();
                if (!stragglers.isEmpty()) {
                    instances.terminate(stragglers);
                }
                if (Instant.now().isAfter(deadline)) {
                    throw new CloudFailure("security group " + id + " is still in use after "
                            + timeout.toMinutes() + " min: check for other instances or network"
                            + " interfaces using it, then re-run -Daction=teardown");
                }
                waiting.pause(attempt, Ec2Calls.WAITING_FOR);
            }
        }
        recorder.deleted(ResourceKind.SECURITY_GROUP, id);
    }

    /** After teardown the next {@code up} makes a new group. */
    void forget() {
        groupId = null;
    }

    /** Adopts the group when it exists (its ingress is added to {@code ingress}), else creates it. */
    private String createOrAdopt(String vpcId, Set<Ec2Permission> ingress) {
        String name = name();
        Optional<SecurityGroup> existing = findByName(vpcId);
        String id;
        if (existing.isPresent()) {
            if (!workshop.isOurs(existing.get().tags())) {
                throw new BadInput("security group '" + name + "' exists in " + vpcId + " but does not belong to"
                        + " workshop '" + workshop.config().workshop() + "': delete it or choose another -Dname");
            }
            id = existing.get().groupId();
            ingress.addAll(Ec2Permission.of(existing.get()));
        } else {
            try {
                id = ec2.createSecurityGroup(r -> r.groupName(name).vpcId(vpcId)
                        .description("workshop-fleet " + workshop.config().workshop() + ": attendee machines")
                        .tagSpecifications(Ec2Calls.tagSpec(ResourceType.SECURITY_GROUP, workshop.sharedTags())))
                        .groupId();
            } catch (Ec2Exception e) {
                if (!"InvalidGroup.Duplicate".equals(Ec2Calls.code(e))) {
                    throw e;
                }
                SecurityGroup raced = findByName(vpcId).orElseThrow(() -> e);
                id = raced.groupId();
                ingress.addAll(Ec2Permission.of(raced));
            }
        }
        recorder.created(new CloudResource(ResourceKind.SECURITY_GROUP, id, name, 0));
        return id;
    }

    private Optional<SecurityGroup> findByName(String vpcId) {
        List<Filter> filters = new ArrayList<>(List.of(Ec2Calls.filter("group-name", name())));
        if (vpcId != null) {
            filters.add(Ec2Calls.filter("vpc-id", vpcId));
        }
        return ec2.describeSecurityGroupsPaginator(r -> r.filters(filters)).securityGroups().stream().findFirst();
    }

    private SecurityGroup describe(String id) {
        // A group created a moment ago may not be visible yet ("Eventual consistency in the Amazon EC2 API").
        for (int attempt = 0; ; attempt++) {
            try {
                return ec2.describeSecurityGroups(r -> r.groupIds(id)).securityGroups().get(0);
            } catch (Ec2Exception e) {
                if (!"InvalidGroup.NotFound".equals(Ec2Calls.code(e)) || attempt >= NOT_FOUND_RETRIES) {
                    throw e;
                }
                waiting.pause(attempt, Ec2Calls.WAITING_FOR);
            }
        }
    }

    private void authorize(Set<Ec2Permission> missing, List<IngressRule> rules) {
        if (missing.isEmpty()) {
            return;
        }
        Map<Integer, String> descriptions = new HashMap<>();
        rules.forEach(r -> descriptions.put(r.port(), r.description()));
        List<IpPermission> perms = missing.stream().map(p -> p.toSdk(descriptions.get(p.from()))).toList();
        try {
            for (int attempt = 0; ; attempt++) {
                try {
                    ec2.authorizeSecurityGroupIngress(r -> r.groupId(groupId).ipPermissions(perms));
                    break;
                } catch (Ec2Exception e) {
                    // A new group may not have propagated yet ("Eventual consistency in the Amazon EC2 API").
                    if (!"InvalidGroup.NotFound".equals(Ec2Calls.code(e)) || attempt >= NOT_FOUND_RETRIES) {
                        throw e;
                    }
                    waiting.pause(attempt, Ec2Calls.WAITING_FOR);
                }
            }
        } catch (Ec2Exception e) {
            // One existing rule fails the whole call; it can only be one we were about to add, so it is there.
            if (!"InvalidPermission.Duplicate".equals(Ec2Calls.code(e))) {
                throw e;
            }
            for (IpPermission p : perms) {
                try {
                    ec2.authorizeSecurityGroupIngress(r -> r.groupId(groupId).ipPermissions(p));
                } catch (Ec2Exception one) {
                    if (!"InvalidPermission.Duplicate".equals(Ec2Calls.code(one))) {
                        throw one;
                    }
                }
            }
        }
    }

    /**
     * Revokes these rules in one call. EC2 reports rules it did not find instead of failing (default VPC, API Reference
     * "RevokeSecurityGroupIngress"); as they were just described, one left over means the group changed meanwhile.
     */
    private void revoke(Set<Ec2Permission> extra) {
        if (extra.isEmpty()) {
            return;
        }
        List<IpPermission> perms = extra.stream().map(p -> p.toSdk(null)).toList();
        List<IpPermission> left = ec2.revokeSecurityGroupIngress(r -> r.groupId(groupId).ipPermissions(perms))
                .unknownIpPermissions();
        if (left != null && !left.isEmpty()) {
            throw new CloudFailure("EC2 did not revoke " + left.size() + " ingress rule(s) of security group "
                    + groupId + " (changed while this ran?): re-run the same command");
        }
    }
}
