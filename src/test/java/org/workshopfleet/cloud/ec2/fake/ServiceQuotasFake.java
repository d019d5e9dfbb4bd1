package org.workshopfleet.cloud.ec2.fake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Supplier;
import org.workshopfleet.cloud.FakeHttpServer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.servicequotas.ServiceQuotasClient;

/**
 * A STAND-IN for AWS Service Quotas, for tests only: an in-process HTTP server on 127.0.0.1 that speaks the service's
 * JSON 1.1 protocol as its API reference and model (service-quotas 2019-06-24) describe it: {@code POST /},
 * {@code X-Amz-Target: ServiceQuotasV20190624.<Op>}, {@code Content-Type: application/x-amz-json-1.1}, request and
 * response members in PascalCase, the request id in the {@code x-amzn-RequestId} header, errors as
 * {@code {"__type": "<Exception>", "Message": "..."}} with HTTP 400 (500 for {@code ServiceException}, a fault in the
 * model). Only {@code GetServiceQuota} is modelled, and only EC2's standard On-Demand vCPU quota
 * ({@code ec2}/{@code L-1216C47A}); any other quota code is {@code NoSuchResourceException}.
 *
 * <p>The quota's value comes from a supplier, so a stand-in started by {@link Ec2Fake#quotas()} always reports the
 * EC2 stand-in's own {@link Ec2Fake#vcpuLimit(int)} (and {@link #NO_LIMIT_VALUE} when none is set). Every request is
 * logged; {@link #failNext} injects the documented errors.
 */
public final class ServiceQuotasFake implements AutoCloseable {

    /** What the stand-in answers when the EC2 stand-in has no vCPU limit: a large account. */
    public static final double NO_LIMIT_VALUE = 5000.0;
    /** The errors GetServiceQuota documents, with the HTTP status each comes back with. */
    public static final List<String> ERRORS = List.of("AccessDeniedException", "NoSuchResourceException",
            "IllegalArgumentException", "ServiceException", "TooManyRequestsException");
    private static final String TARGET_PREFIX = "ServiceQuotasV20190624.";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One request as received. */
    public record Call(String operation, String body, int status, String errorType) {
    }

    private final FakeHttpServer server;
    private final Supplier<Double> value;
    private final String region;
    private final Object lock = new Object();
    private final List<Call> log = new ArrayList<>();
    private final Deque<String> faults = new ArrayDeque<>();

    private ServiceQuotasFake(Supplier<Double> value, String region) {
        this.value = value;
        this.region = region;
        server = FakeHttpServer.start("service-quotas-fake", 2, this::handle);
    }

    /** A stand-in whose quota value is {@code value()} at the time of each request. */
    public static ServiceQuotasFake start(Supplier<Double> value) {
        return new ServiceQuotasFake(value, Ec2Fake.REGION);
    }

    public URI endpoint() {
        return server.endpoint();
    }

    /** A real SDK client pointed at this stand-in (static fake credentials, Apache HTTP, quick retries). */
    public ServiceQuotasClient client() {
        return ServiceQuotasClient.builder()
                .endpointOverride(endpoint())
                .region(Region.of(region))
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create("AKIAFAKEFAKEFAKEFAKE", "fake-secret-for-the-quotas-stand-in")))
                .httpClientBuilder(ApacheHttpClient.builder())
                .overrideConfiguration(o -> o.retryStrategy(Ec2Fake.testRetryStrategy()))
                .build();
    }

    /** The next {@code times} requests fail with this error type (one of {@link #ERRORS}). */
    public ServiceQuotasFake failNext(String errorType, int times) {
        if (!ERRORS.contains(errorType)) {
            throw new IllegalArgumentException("GetServiceQuota does not document " + errorType);
        }
        synchronized (lock) {
            for (int i = 0; i < times; i++) {
                faults.add(errorType);
            }
        }
        return this;
    }

    /** Every request received, in order (failed ones included). */
    public List<Call> calls() {
        synchronized (lock) {
            return List.copyOf(log);
        }
    }

    @Override
    public void close() {
        server.close();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String body;
        try (InputStream in = exchange.getRequestBody()) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        String target = Objects.toString(exchange.getRequestHeaders().getFirst("X-Amz-Target"), "");
        String operation = target.startsWith(TARGET_PREFIX) ? target.substring(TARGET_PREFIX.length()) : target;
        int status = 200;
        String errorType = null;
        String answer;
        synchronized (lock) {
            try {
                String fault = faults.poll();
                if (fault != null) {
                    throw new Failure(fault, message(fault));
                }
                answer = route(operation, body);
            } catch (Failure f) {
                errorType = f.type;
                status = f.type.equals("ServiceException") ? 500 : 400;
                ObjectNode error = JSON.createObjectNode().put("__type", f.type).put("Message", f.getMessage());
                answer = error.toString();
            }
            log.add(new Call(operation, body, status, errorType));
        }
        byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
        FakeHttpServer.reply(exchange, status, Map.of("Content-Type", "application/x-amz-json-1.1", "x-amzn-RequestId",
                UUID.randomUUID().toString()), bytes);
    }

    private String route(String operation, String body) {
        if (!operation.equals("GetServiceQuota")) {
            throw new Failure("UnknownOperationException", "Unknown operation " + operation);
        }
        JsonNode request;
        try {
            request = JSON.readTree(body.isEmpty() ? "{}" : body);
        } catch (IOException e) {
            throw new Failure("IllegalArgumentException", "The request body is not valid JSON");
        }
        String service = request.path("ServiceCode").asText("");
        String code = request.path("QuotaCode").asText("");
        if (service.isEmpty() || code.isEmpty()) {
            throw new Failure("IllegalArgumentException", "ServiceCode and QuotaCode are required");
        }
        if (!service.equals("ec2") || !code.equals("L-1216C47A")) {
            throw new Failure("NoSuchResourceException", "The request failed because the specified service quota does"
                    + " not exist: " + service + "/" + code);
        }
        ObjectNode quota = JSON.createObjectNode()
                .put("ServiceCode", "ec2")
                .put("ServiceName", "Amazon Elastic Compute Cloud (Amazon EC2)")
                .put("QuotaArn", "arn:aws:servicequotas:" + region + ":" + Ec2Fake.OWNER_ID + ":ec2/L-1216C47A")
                .put("QuotaCode", "L-1216C47A")
                .put("QuotaName", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances")
                .put("Value", value.get())
                .put("Unit", "None")
                .put("Adjustable", true)
                .put("GlobalQuota", false)
                .put("QuotaAppliedAtLevel", "ACCOUNT");
        ObjectNode metric = quota.putObject("UsageMetric")
                .put("MetricNamespace", "AWS/Usage")
                .put("MetricName", "ResourceCount")
                .put("MetricStatisticRecommendation", "Maximum");
        metric.putObject("MetricDimensions").put("Class", "Standard/OnDemand").put("Resource", "vCPU")
                .put("Service", "EC2").put("Type", "Resource");
        ObjectNode response = JSON.createObjectNode();
        response.set("Quota", quota);
        return response.toString();
    }

    private static String message(String type) {
        return switch (type) {
            case "AccessDeniedException" -> "User: arn:aws:iam::" + Ec2Fake.OWNER_ID + ":user/facilitator is not"
                    + " authorized to perform: servicequotas:GetServiceQuota";
            case "NoSuchResourceException" -> "The request failed because the specified service quota does not exist.";
            case "IllegalArgumentException" -> "Invalid input was provided.";
            case "ServiceException" -> "Something went wrong.";
            default -> "Rate exceeded";
        };
    }

    private static final class Failure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final String type;

        Failure(String type, String message) {
            super(message);
            this.type = type;
        }
    }
}
