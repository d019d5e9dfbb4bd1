package org.workshopfleet.report;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The shipped {@code simplelogger.properties}: libraries quiet below warn, our own code at info. */
class LoggingDefaultsTest {

    @Test
    void librariesAreQuietAndOurCodeReportsAtInfo() {
        Logger sdk = LoggerFactory.getLogger("software.amazon.awssdk.request");
        Logger sshj = LoggerFactory.getLogger("net.schmizz.sshj.transport.TransportImpl");
        Logger ours = LoggerFactory.getLogger(ProgressBoard.class);
        assertFalse(sdk.isInfoEnabled());
        assertTrue(sdk.isWarnEnabled());
        assertFalse(sshj.isInfoEnabled());
        assertTrue(ours.isInfoEnabled());
        assertFalse(ours.isDebugEnabled(), "debug only with -Dverbose");
    }
}
