package org.workshopfleet.cloud.ec2.fake;

import java.util.Map;

/**
 * An EC2 error the fake answers with: code, message, and the HTTP status real EC2 uses for it (Amazon EC2 API
 * Reference: Error codes for the Amazon EC2 API). Unlisted codes are client errors (400).
 */
final class Ec2Error extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Codes real EC2 answers with a status other than 400; every other code is 400. */
    static final Map<String, Integer> STATUS = Map.of(
            "RequestLimitExceeded", 503,
            "InsufficientInstanceCapacity", 500,
            "InternalError", 500,
            "ServerInternal", 500,
            "Unavailable", 503,
            "ServiceUnavailable", 503,
            "UnauthorizedOperation", 403,
            "AuthFailure", 401,
            "DryRunOperation", 412);

    /** A plausible message for each code the fake injects; the fake's own words, not quoted EC2 text. */
    static final Map<String, String> MESSAGES = Map.ofEntries(
            Map.entry("RequestLimitExceeded", "Request limit exceeded."),
            Map.entry("InsufficientInstanceCapacity", "Insufficient capacity."),
            Map.entry("InstanceLimitExceeded", "Your quota allows for 0 more running instance(s). You requested at least 1."),
            Map.entry("VcpuLimitExceeded", "You have requested more vCPU capacity than your current vCPU limit of 32"
                    + " allows for the instance bucket that the specified instance type belongs to. Please visit"
                    + " http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit."),
            Map.entry("InvalidInstanceID.NotFound", "The instance ID 'i-00000000000000000' does not exist"),
            Map.entry("InvalidGroup.Duplicate", "The security group already exists"),
            Map.entry("InvalidGroup.NotFound", "The security group does not exist"),
            Map.entry("InvalidPermission.Duplicate", "the specified rule already exists"),
            Map.entry("DependencyViolation", "resource has a dependent object"),
            Map.entry("InvalidKeyPair.Duplicate", "The keypair already exists."),
            Map.entry("UnauthorizedOperation", "You are not authorized to perform this operation."),
            Map.entry("AuthFailure", "AWS was not able to validate the provided access credentials"),
            Map.entry("InternalError", "An internal error has occurred"),
            Map.entry("Unavailable", "The server is overloaded and can't handle the request"),
            Map.entry("ServiceUnavailable", "The request has failed due to a temporary failure of the server."));

    final String code;
    final int status;

    private Ec2Error(String code, int status, String message) {
        super(message);
        this.code = code;
        this.status = status;
    }

    static Ec2Error of(String code, String message) {
        return new Ec2Error(code, STATUS.getOrDefault(code, 400), message);
    }

    static Ec2Error injected(String code) {
        return of(code, MESSAGES.getOrDefault(code, code));
    }
}
