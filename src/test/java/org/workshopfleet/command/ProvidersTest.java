package org.workshopfleet.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.CredentialsCheck;
import org.workshopfleet.cloud.IngressRule;
import org.workshopfleet.cloud.PlannedCall;
import org.workshopfleet.cloud.ProviderProfile;
import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.spec.OsProfile;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;

/** The registry holds one profile per provider, and each profile says what its provider's machines are. */
class ProvidersTest {

    private static final List<IngressRule> PORTS = List.of(new IngressRule("tcp", 22, "ssh"),
            new IngressRule("tcp", 80, "web"), new IngressRule("tcp", 3000, "grafana"));

    @Test
    void everyProviderHasItsOwnProfile() {
        for (Provider p : Provider.values()) {
            assertEquals(p, Providers.profile(p).provider());
        }
        assertSame(Providers.profile(Provider.EC2), Providers.ofLedger("ec2"));
        BadInput e = assertThrows(BadInput.class, () -> Providers.ofLedger("azure"));
        assertTrue(e.getMessage().startsWith("the ledger names an unknown provider 'azure'"), e.getMessage());
    }

    @Test
    void whatEachProvidersMachinesAre() {
        ProviderProfile ec2 = Providers.profile(Provider.EC2);
        ProviderProfile lightsail = Providers.profile(Provider.LIGHTSAIL);
        ProviderProfile lab = Providers.profile(Provider.LAB);
        assertEquals(OsProfile.UBUNTU_2204, ec2.os());
        assertEquals(OsProfile.UBUNTU_2204, lightsail.os());
        assertEquals(OsProfile.DEBIAN_12, lab.os());
        assertEquals(UserDataFormat.CLOUD_CONFIG, ec2.userDataFormat());
        assertEquals(UserDataFormat.SHELL_SCRIPT, lightsail.userDataFormat());
        assertEquals(UserDataFormat.CLOUD_CONFIG, lab.userDataFormat());
        assertTrue(ec2.regional() && lightsail.regional() && !lab.regional());
        assertTrue(ec2.billed() && lightsail.billed() && !lab.billed());
        assertTrue(ec2.findsMachinesById() && !lightsail.findsMachinesById() && !lab.findsMachinesById());
        assertEquals("10.231.0.0/16", lab.defaultCidr().orElseThrow().toString());
        assertTrue(ec2.defaultCidr().isEmpty() && lightsail.defaultCidr().isEmpty());
        assertSame(CredentialsCheck.NONE, lab.credentials());
        assertEquals("lightsail:ubuntu_22_04", lightsail.stockImage("eu-west-1", Path.of(".")));
        assertTrue(lab.stockImage("anywhere", Path.of(".")).matches("lab:[0-9a-f]{12}"));
    }

    @Test
    void sizesAndPriceKeysFollowTheSpec() {
        WorkshopSpec ec2 = WorkshopSpec.defaults(3, Provider.EC2);
        ProviderProfile p = Providers.profile(Provider.EC2);
        assertEquals(ec2.instanceTypes().get(0), p.sizeName(ec2));
        assertEquals(ec2.instanceTypes().subList(1, ec2.instanceTypes().size()), p.fallbackSizes(ec2));
        assertEquals("ec2/ap-northeast-1/t3.medium", p.priceKey("ap-northeast-1", "t3.medium"));
        WorkshopSpec ls = WorkshopSpec.defaults(3, Provider.LIGHTSAIL);
        assertEquals(ls.lightsailBundle(), Providers.profile(Provider.LIGHTSAIL).sizeName(ls));
        assertEquals(List.of(), Providers.profile(Provider.LIGHTSAIL).fallbackSizes(ls));
        assertEquals("lightsail/medium_3_0", Providers.profile(Provider.LIGHTSAIL).priceKey("eu-west-1", "medium_3_0"));
        assertEquals("3 × lab machine (local)", Providers.profile(Provider.LAB).machines(ls, 3));
    }

    @Test
    void theLabPlansOneBootPerMachineAndNoCloudCall() {
        WorkshopSpec spec = WorkshopSpec.defaults(2, Provider.LAB);
        List<PlannedCall> calls = Providers.profile(Provider.LAB).plannedCalls(spec, PORTS, "10.231.0.0/16",
                Instant.parse("2026-11-26T06:00:00Z"));
        assertEquals(2, calls.stream().filter(c -> c.operation().equals("systemd-nspawn")).count(), calls.toString());
        assertTrue(calls.get(calls.size() - 2).what().startsWith(spec.machineName(2)), calls.toString());
        assertFalse(calls.stream().anyMatch(c -> c.operation().equals("RunInstances")), calls.toString());
    }
}
