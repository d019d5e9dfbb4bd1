package org.workshopfleet.lab.browser;

/**
 * How opening an address ended.
 *
 * @param url    the address opened
 * @param status the HTTP status of the document (0 when none arrived)
 * @param error  the browser's error, e.g. {@code net::ERR_CERT_AUTHORITY_INVALID}, or
 *               {@code net::ERR_HTTP_RESPONSE_CODE_FAILURE} for an error status with an empty body; "" when the page
 *               loaded
 */
public record Navigation(String url, int status, String error) {

    /** Whether the page loaded with a 2xx document. */
    public boolean ok() {
        return error.isEmpty() && status >= 200 && status < 300;
    }
}
