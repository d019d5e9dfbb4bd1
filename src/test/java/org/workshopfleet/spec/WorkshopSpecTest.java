package org.workshopfleet.spec;

import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WorkshopSpecTest {

    private static WorkshopSpec spec(String name, int count, String region, String cidr, boolean world, Duration ttl) {
        return new WorkshopSpec(name, count, Provider.EC2, region, null, null, cidr == null ? null : Cidr.parse(cidr), world, ttl, 32, Path.of("w"),
                SourceLocations.defaults());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "Bad_Name | 1 | ap-northeast-1 | 10.0.0.1/32 | workshop name",
            "a-name-that-is-far-too-long-for-lightsail | 1 | ap-northeast-1 | 10.0.0.1/32 | workshop name",
            "ok | -1 | ap-northeast-1 | 10.0.0.1/32 | -Dcount=1..",
            "ok | 201 | ap-northeast-1 | 10.0.0.1/32 | -Dcount=1..",
            "ok | 1 | mars-north-1 | 10.0.0.1/32 | -Dregion=",
            "ok | 1 | ap-northeast-1 | 10.0.0.300/32 | -Dcidr=",
            "ok | 1 | ap-northeast-1 | 10.0.0.1/33 | -Dcidr=",
            "ok | 1 | ap-northeast-1 | 10.0.0.1/24 | host bits",
            "ok | 1 | ap-northeast-1 | 0.0.0.0/0 | -DallowWorld=true",
            "ok | 1 | ap-northeast-1 | 0.0.0.0/1 | -DallowWorld=true",
            "ok | 1 | ap-northeast-1 | 10.0.0.0/15 | -DallowWorld=true",
    })
    void badInputIsOneLineThatSaysHowToFixIt(String name, int count, String region, String cidr, String hint) {
        FleetException e = assertThrows(FleetException.class, () -> spec(name, count, region, cidr, false, null));
        assertTrue(e.getMessage().contains(hint), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @ParameterizedTest
    @CsvSource({"10.1.2.3, 10.1.2.3/32", "10.1.2.0/24, 10.1.2.0/24", "0.0.0.0/0, 0.0.0.0/0"})
    void cidrsAreNormalised(String given, String expected) {
        assertEquals(expected, spec("ok", 1, null, given, true, null).cidr().toString());
    }

    @ParameterizedTest
    @CsvSource({"10.1.0.0/16", "203.0.113.0/24", "203.0.113.7/32"})
    void aSlash16OrNarrowerNeedsNoOptIn(String cidr) {
        assertEquals(cidr, spec("ok", 1, null, cidr, false, null).cidr().toString());
    }

    @ParameterizedTest
    @CsvSource({"0.0.0.0/1", "10.0.0.0/15", "0.0.0.0/0"})
    void widerThanSlash16IsAcceptedWithTheOptIn(String cidr) {
        assertEquals(cidr, spec("ok", 1, null, cidr, true, null).cidr().toString());
    }

    @ParameterizedTest
    @CsvSource({"1, ok-01", "12, ok-12", "100, ok-100"})
    void machinesAreNamedByAttendee(int attendee, String expected) {
        assertEquals(expected, spec("ok", 1, null, null, false, null).machineName(attendee));
    }
}
