package org.workshopfleet.lab.browser;

import java.nio.file.Path;
import java.util.List;
import org.workshopfleet.concurrent.Waiter;

/**
 * What the browser driver's tests start once per class: a {@link LoopbackSite} and a headless {@link Chromium} that
 * trusts that site's certificate (and no other). Skipped without the browser, failed on CI ({@link
 * Chromium#requireInstalled}).
 *
 * @param site    the loopback HTTPS fixture
 * @param browser the browser pinned to {@code site}'s certificate
 */
record BrowserFixture(LoopbackSite site, Chromium browser) implements AutoCloseable {

    /** Starts the site with a certificate made in {@code folder}, then the browser, which waits as {@code waiter}. */
    static BrowserFixture start(Path folder, Waiter waiter) throws Exception {
        Chromium.requireInstalled();
        LoopbackSite site = LoopbackSite.start(folder);
        try {
            return new BrowserFixture(site, Chromium.start(List.of(site.pin().spkiSha256()), waiter));
        } catch (RuntimeException | Error e) {
            site.close();
            throw e;
        }
    }

    /** Ends the browser (its whole process tree and profile), then the site. */
    @Override
    public void close() {
        try {
            browser.close();
        } finally {
            site.close();
        }
    }
}
