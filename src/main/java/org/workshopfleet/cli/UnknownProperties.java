package org.workshopfleet.cli;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.spec.NearestName;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Refuses {@code -D} keys that look like options but are not: {@code -Dnmae=rehearsal} would otherwise be ignored and
 * the command would act on the default workshop. A key without a dot that is neither in {@link Options#PROPERTIES} nor
 * in {@link #FOREIGN} is bad input, reported with the closest option as a suggestion. Keys with a dot ({@code java.*},
 * {@code org.slf4j.*}, {@code exec.*}, {@code maven.*}, {@code surefire.*}) belong to the JVM and tools and pass.
 */
final class UnknownProperties {

    /**
     * Dot-less keys that other software sets or reads, so they may reach {@link Main} without being ours.
     * {@code mvn exec:java} runs in Maven's JVM and sees every {@code -D} of the Maven command line; Maven 3.8's own
     * system properties all have dots (checked with {@code mvn exec:java} printing {@code System.getProperties()}), but a
     * facilitator may add Maven or Surefire user properties to the same command ({@code -DskipTests}, {@code -Dtest},
     * {@code -DargLine}, {@code -DskipITs}, {@code -DfailIfNoTests}); Surefire and Failsafe set {@code basedir} and
     * {@code localRepository} in forked test JVMs; and the JDK's "Networking Properties" page documents
     * {@code socksProxyHost}, {@code socksProxyPort} and {@code socksProxyVersion}, which the AWS SDK and sshj honour.
     */
    static final Set<String> FOREIGN = Set.of("skipTests", "test", "argLine", "skipITs", "failIfNoTests", "basedir",
            "localRepository", "socksProxyHost", "socksProxyPort", "socksProxyVersion");

    private UnknownProperties() {
    }

    /**
     * @throws FleetException naming every unknown key, each with its closest option when there is one
     */
    static void refuse(Map<String, String> props) {
        List<String> unknown = new ArrayList<>();
        for (String key : new TreeSet<>(props.keySet())) {
            if (key.indexOf('.') < 0 && !Options.PROPERTIES.containsKey(key) && !FOREIGN.contains(key)) {
                String near = closest(key);
                unknown.add("-D" + key + (near == null ? "" : " (did you mean -D" + near + "?)"));
            }
        }
        if (!unknown.isEmpty()) {
            throw new BadInput("unknown option" + (unknown.size() == 1 ? " " : "s ") + String.join(", ", unknown)
                    + ": fix or remove it; nothing was done (-Dhelp lists every option)");
        }
    }

    /** The option nearest to {@code key}, or null when none is a likely typo of it. */
    static String closest(String key) {
        return NearestName.closest(key, Options.PROPERTIES.keySet());
    }
}
