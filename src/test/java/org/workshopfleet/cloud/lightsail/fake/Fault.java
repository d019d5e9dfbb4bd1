package org.workshopfleet.cloud.lightsail.fake;

/**
 * Errors {@link LightsailFake} can inject, with the status and {@code __type} real Lightsail answers with (Amazon
 * Lightsail API Reference: Common Errors, and the Errors section of each action).
 */
public enum Fault {
    /** 400 {@code ThrottlingException}: the SDK retries it (4 attempts by default). */
    THROTTLING(400, "ThrottlingException", null, "Rate exceeded"),
    /** 500 {@code ServiceException}: retried by the SDK. */
    SERVICE_ERROR(500, "ServiceException", null, "An internal service error occurred (injected by the fake)."),
    /** 400 {@code NotFoundException}: not retried; models eventual consistency right after a create. */
    NOT_FOUND(400, "NotFoundException", "DoesNotExist", "The resource does not exist yet (injected by the fake)."),
    /**
     * 400 {@code OperationFailureException} for an account limit. Lightsail's reference names no quota error of its
     * own: the fake picks OperationFailure (InvalidInput is the other candidate); the message is the fake's own
     * template, not a quoted AWS string.
     */
    QUOTA(400, "OperationFailureException", "QuotaExceeded",
            "You have reached the maximum number of instances for this account in this Region (injected by the fake)."),
    /**
     * 400 {@code InvalidInputException} for an instance not ready for the call (e.g. a firewall change while pending).
     * Whether Lightsail refuses that at all is undocumented; the message is the fake's own.
     */
    NOT_READY(400, "InvalidInputException", null, "The instance is not in a valid state for this operation (injected by the fake)."),
    /** 400 {@code AccessDeniedException}: credentials without Lightsail permissions; not retried. */
    ACCESS_DENIED(400, "AccessDeniedException", "AccessDenied",
            "You are not authorized to perform this operation (injected by the fake)."),
    /**
     * The call is performed, then answered with a 500 {@code ServiceException} as if the success response had been
     * lost: the SDK retries, and a non-idempotent create meets its own result ({@code NameExists}).
     */
    LOST_RESPONSE(500, "ServiceException", null, "The response was lost (injected by the fake).");

    final int status;
    final String type;
    final String code;
    final String message;

    Fault(int status, String type, String code, String message) {
        this.status = status;
        this.type = type;
        this.code = code;
        this.message = message;
    }
}
