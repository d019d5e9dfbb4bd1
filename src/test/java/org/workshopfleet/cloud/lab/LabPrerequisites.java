package org.workshopfleet.cloud.lab;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Optional;

/** Lab tests skip on a laptop without root or the tools, but fail when {@code CI=true}. */
public final class LabPrerequisites {

    private LabPrerequisites() {
    }

    public static void require(String... extraPrograms) {
        Optional<String> problem = LabHost.problem();
        for (String program : extraPrograms) {
            if (problem.isEmpty() && LabHost.which(program).isEmpty()) {
                problem = Optional.of("this test needs " + program + " on the host");
            }
        }
        if (problem.isPresent() && "true".equals(System.getenv("CI"))) {
            fail("CI=true but lab tests cannot run: " + problem.get());
        }
        String why = problem.orElse("");
        assumeTrue(why.isEmpty(), () -> "skipping lab test: " + why);
    }
}
