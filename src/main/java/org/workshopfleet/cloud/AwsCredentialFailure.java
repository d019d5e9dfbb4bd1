package org.workshopfleet.cloud;

import org.workshopfleet.error.CauseTrace;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Tells an AWS SDK client error that is a failure to load or refresh the credentials (an SSO session that expired, a
 * profile's {@code credential_process} that failed mid-run) from other client errors, and gives the text that may be
 * shown for it. The credential chain's message quotes each provider's failure, and the SDK's
 * {@code ProcessCredentialsProvider} quotes the error output of the {@code credential_process} ("Command returned
 * non-zero exit value (…) with error message: …"), which can hold anything: none of it is shown, and the exception is
 * kept as a cause only as a {@link CauseTrace} (classes and stack traces, no messages), which {@code -Dverbose}
 * prints. Other client errors (the network: "Unable to execute HTTP request: Connect to … failed") keep their message,
 * which helps the facilitator and holds no secret.
 */
public final class AwsCredentialFailure {

    /** The one line shown for a credential failure, with what to do. */
    public static final String LINE = "AWS credentials could not be loaded or refreshed: " + AwsCredentials.FIX
            + ", then re-run the same command";

    /**
     * The SDK's credential providers throw no exception type of their own (an {@code SdkClientException} or an
     * {@code IllegalStateException}): who made the exception tells. These are the packages of the providers the
     * default chain uses (environment, profile, process, container, instance, web identity; SSO; STS).
     */
    private static final String[] PROVIDER_PACKAGES = {
        "software.amazon.awssdk.auth.credentials.",
        "software.amazon.awssdk.auth.token.",
        "software.amazon.awssdk.services.sso.auth.",
        "software.amazon.awssdk.services.ssooidc.internal.",
        "software.amazon.awssdk.services.sts.auth.",
    };

    /** The chain's own error, which has no cause: its message begins with this. */
    private static final String CHAIN_MESSAGE = "Unable to load credentials from any of the providers in the chain";

    /** Causes looked at at most: enough for the SDK's wrapping, and no loop on a cyclic cause chain. */
    private static final int MAX_CAUSES = 16;

    private AwsCredentialFailure() {
    }

    /**
     * Whether {@code e} or one of its causes was made by an SDK credential provider (the first frame of its stack trace
     * outside the exception classes lies in a provider package) or is the credential chain's own error.
     */
    public static boolean is(Throwable e) {
        Throwable t = e;
        for (int i = 0; t != null && i < MAX_CAUSES; i++, t = t.getCause()) {
            if (madeByAProvider(t) || String.valueOf(t.getMessage()).startsWith(CHAIN_MESSAGE)) {
                return true;
            }
        }
        return false;
    }

    /** The credentials every AWS client of this tool is built with: the SDK's default chain, {@link #reported}. */
    public static AwsCredentialsProvider defaultChain() {
        return reported(DefaultCredentialsProvider.builder().build());
    }

    /**
     * {@code provider}, its failures always an {@code SdkClientException}. Mid-run the default chain asks the provider
     * that worked before directly, and the synchronous clients pass that provider's own exception (an
     * {@code IllegalStateException} for a failed {@code credential_process} refresh) through unwrapped, past every
     * handler of client errors; here it becomes one, the original its cause, so {@link #is} recognises it where the
     * call is made.
     */
    public static AwsCredentialsProvider reported(AwsCredentialsProvider provider) {
        return () -> {
            try {
                return provider.resolveCredentials();
            } catch (SdkException e) {
                throw e;
            } catch (RuntimeException e) {
                throw SdkClientException.create("AWS credentials could not be refreshed", e);
            }
        };
    }

    /** The cause to keep for {@code e}: a {@link CauseTrace} of it for a credential failure, else {@code e} itself. */
    public static Throwable cause(Throwable e) {
        return is(e) ? CauseTrace.of(e) : e;
    }

    private static boolean madeByAProvider(Throwable t) {
        for (StackTraceElement frame : t.getStackTrace()) {
            String c = frame.getClassName();
            // Skip the exception's own constructors and builders.
            if (c.startsWith("java.lang.") || c.startsWith("software.amazon.awssdk.core.exception.")
                    || c.equals(t.getClass().getName())) {
                continue;
            }
            for (String p : PROVIDER_PACKAGES) {
                if (c.startsWith(p)) {
                    return true;
                }
            }
            return false;
        }
        return false;
    }
}
