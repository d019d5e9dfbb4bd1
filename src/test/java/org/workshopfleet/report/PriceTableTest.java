package org.workshopfleet.report;

import org.workshopfleet.cloud.lightsail.LightsailProfile;
import org.workshopfleet.cloud.lab.LabProfile;
import org.workshopfleet.cloud.ec2.Ec2Profile;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class PriceTableTest {

    private final PriceTable table = PriceTable.load();

    @Test
    void theShippedTableIsDatedSourcedAndSaysItHoldsListPrices() {
        assertTrue(table.asOf().isAfter(LocalDate.of(2025, 12, 31)), "dated: " + table.asOf());
        assertTrue(table.notice().contains("List prices as of"), table.notice());
        assertTrue(table.notice().contains("may have changed"), table.notice());
        assertTrue(table.sources().stream().anyMatch(s -> s.contains("aws.amazon.com/ec2/pricing")));
        assertTrue(table.sources().stream().anyMatch(s -> s.contains("aws.amazon.com/lightsail/pricing")));
    }

    @ParameterizedTest
    @CsvSource({"ap-northeast-1,t3.medium,0.0544", "us-east-1,t3.medium,0.0416", "us-east-1,t3a.medium,0.0376",
            "ap-northeast-1,t2.medium,0.0608", "eu-west-1,t3.large,0.0912"})
    void knowsTheDefaultSizesInTheUsualRegions(String region, String type, double usd) {
        assertEquals(usd, table.hourly(new Ec2Profile(), region, type).orElseThrow().usdPerHour(), 1e-9);
    }

    @Test
    void everyRequiredTypeIsPricedInEveryRequiredRegion() {
        for (String region : new String[] {"ap-northeast-1", "us-east-1", "us-west-2", "eu-west-1", "eu-central-1",
                "ap-southeast-1"}) {
            for (String type : new String[] {"t3.medium", "t3a.medium", "t2.medium", "t3.small", "t3.large"}) {
                double p = table.hourly(new Ec2Profile(), region, type).orElseThrow(
                        () -> new AssertionError(type + " in " + region + " is missing")).usdPerHour();
                assertTrue(p > 0.005 && p < 0.2, type + " in " + region + " = " + p);
            }
            // Within a region, sizes are ordered as AWS prices them.
            assertTrue(price(region, "t3.small") < price(region, "t3.medium"));
            assertTrue(price(region, "t3.medium") < price(region, "t3.large"));
            assertTrue(price(region, "t3a.medium") < price(region, "t3.medium"));
            assertTrue(price(region, "t3.medium") < price(region, "t2.medium"));
        }
    }

    @Test
    void lightsailBundlesArePricedPerHourFromTheMonthlyPrice() {
        assertEquals(24.0 / 744, table.hourly(new LightsailProfile(), "eu-west-1", "medium_3_0").orElseThrow().usdPerHour(), 1e-12);
        // AWS's own example: the $5 plan is $0.0067 an hour.
        assertEquals(0.0067, table.hourly(new LightsailProfile(), "us-east-1", "nano_3_0").orElseThrow().usdPerHour(), 0.00005);
        for (String b : new String[] {"nano_3_0", "micro_3_0", "small_3_0", "medium_3_0", "large_3_0"}) {
            assertTrue(table.hourly(new LightsailProfile(), "ap-northeast-1", b).isPresent(), b);
        }
    }

    @Test
    void unknownSizesAndRegionsHaveNoPriceAndTheLabIsFree() {
        assertTrue(table.hourly(new Ec2Profile(), "ap-northeast-1", "m7i.48xlarge").isEmpty());
        assertTrue(table.hourly(new Ec2Profile(), "sa-east-1", "t3.medium").isEmpty());
        assertTrue(table.hourly(new LightsailProfile(), "us-east-1", "xlarge_9_9").isEmpty());
        assertEquals(0, table.hourly(new LabProfile(), "anywhere", "lab").orElseThrow().usdPerHour());
        assertEquals(0, table.hourly(new LabProfile(), "anywhere", null).orElseThrow().usdPerHour());
        assertTrue(table.hourly(new LightsailProfile(), "us-east-1", null).isEmpty());
        assertTrue(table.hourly(new Ec2Profile(), "us-east-1", null).isEmpty());
    }

    @Test
    void parsesEstimateMarks() throws Exception {
        String json = """
                {"asOf":"2026-01-02","notice":"n","sources":["s"],
                 "ec2":{"r-1":{"a.b":{"usdPerHour":0.5,"estimate":true},"c.d":{"usdPerHour":0.25}}},
                 "lightsail":{"hoursPerMonth":730,"bundles":{"x_1":{"usdPerMonth":73}}}}""";
        PriceTable t = PriceTable.parse(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
        assertTrue(t.hourly(new Ec2Profile(), "r-1", "a.b").orElseThrow().estimate());
        assertFalse(t.hourly(new Ec2Profile(), "r-1", "c.d").orElseThrow().estimate());
        assertEquals(0.1, t.hourly(new LightsailProfile(), "r-1", "x_1").orElseThrow().usdPerHour(), 1e-12);
        assertEquals(LocalDate.of(2026, 1, 2), t.asOf());
    }

    private double price(String region, String type) {
        return table.hourly(new Ec2Profile(), region, type).orElseThrow().usdPerHour();
    }
}
