package org.workshopfleet.cloud;

import org.workshopfleet.error.CloudFailure;
import org.workshopfleet.error.FleetException;


/**
 * The cloud made the image but it ended broken (EC2 AMI {@code failed}, Lightsail snapshot {@code error}): a verdict on
 * this bake, not bad input or an unreachable cloud, so the baker reports it as its builder's failure at
 * {@code capture}. The broken image is left for the next bake to replace, as the message says.
 */
public final class ImageFailed extends CloudFailure {
    private static final long serialVersionUID = 1L;

    private final String reason;

    /**
     * @param reason  short, e.g. {@code ami-0abc ended failed: Internal error}, for a results table cell
     * @param oneLine the whole message: what ended broken, why, and what to do
     */
    public ImageFailed(String reason, String oneLine) {
        super(oneLine);
        this.reason = reason;
    }

    /** Which image ended in which state and why, without the advice: for a results table cell. */
    public String reason() {
        return reason;
    }
}
