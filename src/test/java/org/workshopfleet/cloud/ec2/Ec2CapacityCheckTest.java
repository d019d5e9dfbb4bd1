package org.workshopfleet.cloud.ec2;

import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.RecordedResources;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.ec2.fake.RecordedCall;
import org.workshopfleet.cloud.ec2.fake.ServiceQuotasFake;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.concurrent.Waiter;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.InstanceType;
import software.amazon.awssdk.services.servicequotas.ServiceQuotasClient;
import software.amazon.awssdk.services.servicequotas.model.NoSuchResourceException;

/**
 * {@link Ec2Cloud#checkCapacity}: the vCPU pre-check against the EC2 stand-in and the Service Quotas stand-in (which
 * reports the EC2 stand-in's own {@code vcpuLimit}). A refusal happens before anything exists; a quota that cannot be
 * read gives a notice and leaves EC2's refusal at launch as the safety net.
 */
class Ec2CapacityCheckTest {

    final FleetFixture fx = new FleetFixture(WorkshopSpec.defaults(5, Provider.EC2));
    final Ec2Fake fake = fx.fake;

    @AfterEach
    void close() {
        fx.close();
    }

    private List<String> ec2Operations() {
        return fake.calls().stream().map(RecordedCall::operation).toList();
    }

    @Test
    void fleetAloneAboveTheQuotaIsRefusedWithoutCountingUsage() {
        fake.vcpuLimit(8);
        Ec2Cloud cloud = fx.cloud(new RecordedResources());

        FleetException e = assertThrows(FleetException.class, () -> cloud.capacity().orElseThrow().checkCapacity(5));

        String m = e.getMessage();
        assertFalse(m.contains("\n"), m);
        assertTrue(m.contains("'Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances' (L-1216C47A)"), m);
        assertTrue(m.contains("in ap-northeast-1 is 8 vCPUs"), m);
        assertTrue(m.contains("a fleet of 5 x t3.medium (2 vCPUs each) needs 10 vCPUs by itself"), m);
        assertTrue(m.contains("nothing was created"), m);
        assertTrue(m.contains("aws service-quotas request-service-quota-increase --service-code ec2 --quota-code"
                + " L-1216C47A --desired-value 10 --region ap-northeast-1"), m);
        assertTrue(m.contains("-Dcount=4 or less"), m);
        assertEquals(List.of("DescribeInstanceTypes"), ec2Operations(), "one read-only call, no usage scan");
        assertEquals(List.of("GetServiceQuota"), fake.quotas().calls().stream().map(ServiceQuotasFake.Call::operation).toList());
        assertEquals(0, fake.launchedInstanceCount());
    }

    @Test
    void usageOfOtherInstancesIsCounted() {
        fake.vcpuLimit(10);
        launchForeign(InstanceType.T3_LARGE, 3); // 6 vCPUs of someone else's
        fake.clearCalls();
        Ec2Cloud cloud = fx.cloud(new RecordedResources());

        assertEquals(Optional.empty(), cloud.capacity().orElseThrow().checkCapacity(2), "6 in use + 2 x 2 = 10 fits a quota of 10");
        FleetException e = assertThrows(FleetException.class, () -> cloud.capacity().orElseThrow().checkCapacity(3));

        String m = e.getMessage();
        assertTrue(m.contains("is 10 vCPUs; in use: 6 vCPUs; the 3 machine(s) still to launch (t3.medium, 2 vCPUs each)"
                + " need 6 vCPUs more"), m);
        assertTrue(m.contains("--desired-value 12"), m);
        assertTrue(m.contains("-Dcount=2 or less"), m);
        assertTrue(ec2Operations().stream().allMatch(op -> op.startsWith("Describe")), "read-only: " + ec2Operations());
        assertEquals(1, fake.calls("DescribeInstanceTypes").size(), "the type's vCPUs are asked once: " + ec2Operations());
        assertEquals(2, fake.calls("DescribeInstances").size(), "one usage scan per check: " + ec2Operations());
        assertEquals(3, fake.launchedInstanceCount(), "only the foreign instances exist");
    }

    @Test
    void theWorkshopsLiveMachinesAreInUseAndNotNeededAgain() {
        fake.vcpuLimit(8);
        launchForeign(InstanceType.T3_LARGE, 1);
        fx.up(fx.cloud(new RecordedResources()), fx.requests(1, 3)); // 2 + 6 vCPUs: the quota is full
        Ec2Cloud rerun = fx.cloud(new RecordedResources());

        assertEquals(Optional.empty(), rerun.capacity().orElseThrow().checkCapacity(3), "a re-run of the same fleet launches nothing");
        FleetException e = assertThrows(FleetException.class, () -> rerun.capacity().orElseThrow().checkCapacity(4));
        assertTrue(e.getMessage().contains("in use: 8 vCPUs; the 1 machine(s) still to launch (t3.medium, 2 vCPUs each)"
                + " need 2 vCPUs more"), e.getMessage());
        assertTrue(e.getMessage().contains("--desired-value 10") && e.getMessage().contains("-Dcount=3 or less"),
                e.getMessage());
    }

    @Test
    void aFleetThatFitsIsLaunched() {
        fake.vcpuLimit(10);
        List<Machine> machines = fx.up(fx.cloud(new RecordedResources()), fx.requests(1, 5));

        assertEquals(5, machines.stream().filter(Machine::isRunningWithAddress).count());
        assertEquals(1, fake.quotas().calls().size());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"AccessDeniedException", "NoSuchResourceException", "IllegalArgumentException",
        "ServiceException", "TooManyRequestsException"})
    void anUnreadableQuotaIsANoticeAndLaunchTimeRefusalStaysTheNet(String error) {
        fake.vcpuLimit(8);
        fake.quotas().failNext(error, 20); // more than the SDK retries of the retried ones (5xx, throttling)
        Ec2Cloud cloud = fx.cloud(new RecordedResources());

        Optional<String> notice = cloud.capacity().orElseThrow().checkCapacity(5);

        assertTrue(notice.isPresent());
        assertTrue(notice.get().contains("cannot read the EC2 vCPU quota") && notice.get().contains(error),
                notice.get());
        assertFalse(notice.get().contains("\n"));
        assertEquals(List.of(), ec2Operations(), "no EC2 call for a quota that cannot be read");
        cloud.prepare(fx.context);
        FleetException e = assertThrows(FleetException.class, () -> cloud.createNodes(fx.context, fx.requests(1, 5)));
        assertTrue(e.getMessage().contains("VcpuLimitExceeded") && e.getMessage().contains("limit 8 vCPUs"),
                e.getMessage());
    }

    @Test
    void anUnreachableQuotaEndpointIsANotice() {
        fake.vcpuLimit(8);
        try (ServiceQuotasClient nowhere = ServiceQuotasClient.builder().endpointOverride(java.net.URI.create(
                        "http://127.0.0.1:9")).region(Region.AP_NORTHEAST_1)
                .credentialsProvider(() -> software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create("AKIAX", "x"))
                .httpClientBuilder(ApacheHttpClient.builder())
                .overrideConfiguration(o -> o.retryStrategy(Ec2Fake.testRetryStrategy())).build()) {
            Ec2Cloud cloud = new Ec2Cloud(fx.client(), Ec2Cloud.config(fx.spec), new RecordedResources(),
                    AmiCatalog.load(Path.of("ami.properties")), Waiter.fast(), new OnDemandVcpuQuota(nowhere));

            Optional<String> notice = cloud.capacity().orElseThrow().checkCapacity(5);

            assertTrue(notice.isPresent() && notice.get().contains("Service Quotas not reachable"), notice.toString());
            assertEquals(List.of(), ec2Operations());
        }
    }

    @Test
    void theQuotaStandInSpeaksJson11AsDocumented() {
        fake.vcpuLimit(32);
        try (ServiceQuotasClient client = fake.quotas().client()) {
            assertEquals(32.0, client.getServiceQuota(r -> r.serviceCode("ec2").quotaCode("L-1216C47A")).quota().value());
            assertThrows(NoSuchResourceException.class,
                    () -> client.getServiceQuota(r -> r.serviceCode("ec2").quotaCode("L-34B43A08")));
        }
        ServiceQuotasFake.Call first = fake.quotas().calls().get(0);
        assertEquals("GetServiceQuota", first.operation());
        assertTrue(first.body().contains("\"ServiceCode\":\"ec2\"") && first.body().contains("\"QuotaCode\":\"L-1216C47A\""),
                first.body());
        assertEquals("NoSuchResourceException", fake.quotas().calls().get(1).errorType());
    }

    @ParameterizedTest
    @CsvSource({"t3.medium,true", "m5.large,true", "c7g.xlarge,true", "r6i.2xlarge,true", "z1d.large,true",
        "i4i.large,true", "d3.xlarge,true", "h1.2xlarge,true", "a1.medium,true", "g4dn.xlarge,false",
        "p3.2xlarge,false", "x2idn.16xlarge,false", "f1.2xlarge,false", "inf1.xlarge,false", "dl1.24xlarge,false",
        "trn1.2xlarge,false", "mac2.metal,false", "u-6tb1.metal,false"})
    void standardFamilies(String type, boolean standard) {
        assertEquals(standard, Ec2Capacity.isStandardFamily(type));
    }

    @Test
    void aCloudWithoutQuotaReaderChecksNothing() {
        fake.vcpuLimit(2);
        Ec2Cloud cloud = new Ec2Cloud(fx.client(), Ec2Cloud.config(fx.spec), new RecordedResources(),
                AmiCatalog.load(Path.of("ami.properties")), Waiter.fast());
        assertEquals(Optional.empty(), cloud.capacity(), "no capacity check without a quota reader");
        assertEquals(List.of(), ec2Operations());
    }

    private void launchForeign(InstanceType type, int count) {
        Ec2Client c = fx.client();
        c.runInstances(r -> r.imageId("ami-0123456789abcdef0").instanceType(type).minCount(count).maxCount(count)
                .tagSpecifications(t -> t.resourceType("instance").tags(tag -> tag.key("Team").value("other"))));
    }
}
