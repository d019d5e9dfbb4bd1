package org.workshopfleet.cloud;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.workshopfleet.spec.Cidr;
import org.workshopfleet.spec.OsProfile;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;

/**
 * Everything that differs between providers outside the {@link Cloud} calls themselves: the rest of the tool asks the
 * profile instead of testing which provider it has. One implementation per provider, next to its cloud.
 */
public interface ProviderProfile {

    /** The provider this profile describes. */
    Provider provider();

    /** The real cloud for {@code spec}, recording what it creates; {@code projectRoot} holds its settings files. */
    Cloud connect(WorkshopSpec spec, ResourceRecorder recorder, Path projectRoot);

    /** Whether machines live in an AWS region (the lab's live on this computer, whatever -Dregion says). */
    default boolean regional() {
        return provider().regional();
    }

    /** The first-boot configuration its machines take. */
    UserDataFormat userDataFormat();

    /** The operating system its machines run. */
    OsProfile os();

    /** The stock image a fleet starts from, as it enters an image recipe, e.g. {@code ec2:<region>:<AMI>}. */
    String stockImage(String region, Path projectRoot);

    /** Who may reach the machines when -Dcidr is not given; empty: this computer's public address, detected. */
    Optional<Cidr> defaultCidr();

    /** The size a machine of {@code spec} gets: the instance type, the bundle, or what the lab boots. */
    String sizeName(WorkshopSpec spec);

    /** Sizes a machine may get instead of {@link #sizeName} when capacity is short (EC2's fallback types). */
    List<String> fallbackSizes(WorkshopSpec spec);

    /** {@code count} machines and where, for the line shown before {@code up}, e.g. {@code 3 × t3.medium in us-east-1}. */
    String machines(WorkshopSpec spec, int count);

    /** Whether its machines cost money (the lab's are this computer's). */
    boolean billed();

    /** The key of one machine-hour's list price in the price table, for a {@linkplain #billed() billed} provider. */
    String priceKey(String region, String size);

    /** The credentials check run before any cloud call. */
    CredentialsCheck credentials();

    /**
     * Whether the cloud answers {@link Cloud#awaitRunning} for machine ids it no longer lists by tag (EC2 does), so a
     * teardown can tell "none found" from "found by id".
     */
    boolean findsMachinesById();

    /**
     * The operations {@code up} makes on an empty fleet of {@code spec.count()} machines, in order.
     *
     * @param ingress   the rules opened on every machine
     * @param cidr      who may reach them (as {@code plan} shows it)
     * @param expiresAt the expiry tag the machines get
     */
    List<PlannedCall> plannedCalls(WorkshopSpec spec, List<IngressRule> ingress, String cidr, Instant expiresAt);

    /**
     * Who may reach which port, as {@code plan} lists it: {@code tcp/22, tcp/80, tcp/3000 from 203.0.113.7/32 only},
     * then the world rules, if any: {@code ; tcp/443 from 0.0.0.0/0 and ::/0 (every address)}.
     *
     * @param ipv6 whether the cloud also opens the world rules to {@value IngressRule#EVERY_IPV6}
     */
    static String admits(List<IngressRule> ingress, String cidr, boolean ipv6) {
        List<IngressRule> world = ingress.stream().filter(IngressRule::world).toList();
        String head = ports(ingress.stream().filter(r -> !r.world()).toList()) + " from " + cidr + " only";
        return world.isEmpty() ? head : head + "; " + ports(world) + " from " + IngressRule.EVERY_IPV4
                + (ipv6 ? " and " + IngressRule.EVERY_IPV6 : "") + " (every address)";
    }

    /** {@code tcp/22, tcp/80, tcp/3000}: the ports of {@code ingress}, in order, without repeats. */
    static String ports(List<IngressRule> ingress) {
        return String.join(", ", ingress.stream().map(r -> r.protocol() + "/" + r.port()).distinct().toList());
    }
}
