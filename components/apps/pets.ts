import { AppSpec } from "./spec";

const RABBITMQ = "rabbitmq-credentials";

/**
 * The AKS store demo ("pets"): store-front (nginx, entry), order-service, product-service and a
 * RabbitMQ StatefulSet. Changed from the quickstart: store-front is ClusterIP behind the Istio
 * ingress, ports are named for Istio, RabbitMQ credentials are generated, and order-service waits
 * for RabbitMQ with a protocol-level check that works through the (native) sidecar.
 */
export const pets: AppSpec = {
    name: "pets",
    namespace: "pets",
    secrets: [{ name: RABBITMQ, literals: { username: "orders" }, random: { password: 32 } }],
    services: [
        {
            name: "store-front",
            image: "ghcr.io/azure-samples/aks-store-demo/store-front:2.2.0",
            ports: [{ port: 8080, protocol: "http" }],
            resources: { requests: { cpu: "1m", memory: "200Mi" }, limits: { cpu: "1000m", memory: "512Mi" } },
            probes: {
                startup: { httpGet: { path: "/health", port: 8080 }, failureThreshold: 3, initialDelaySeconds: 5, periodSeconds: 5 },
                readiness: { httpGet: { path: "/health", port: 8080 }, failureThreshold: 3, initialDelaySeconds: 3, periodSeconds: 3 },
                liveness: { httpGet: { path: "/health", port: 8080 }, failureThreshold: 5, initialDelaySeconds: 3, periodSeconds: 3 },
            },
        },
        {
            name: "order-service",
            image: "ghcr.io/azure-samples/aks-store-demo/order-service:2.2.0",
            ports: [{ port: 3000, protocol: "http" }],
            resources: { requests: { cpu: "1m", memory: "50Mi" }, limits: { cpu: "75m", memory: "128Mi" } },
            env: {
                ORDER_QUEUE_HOSTNAME: "rabbitmq",
                ORDER_QUEUE_PORT: "5672",
                ORDER_QUEUE_NAME: "orders",
                FASTIFY_ADDRESS: "0.0.0.0",
            },
            secretEnv: {
                ORDER_QUEUE_USERNAME: { secret: RABBITMQ, key: "username" },
                ORDER_QUEUE_PASSWORD: { secret: RABBITMQ, key: "password" },
            },
            probes: {
                startup: { httpGet: { path: "/health", port: 3000 }, failureThreshold: 5, initialDelaySeconds: 20, periodSeconds: 10 },
                readiness: { httpGet: { path: "/health", port: 3000 }, failureThreshold: 3, initialDelaySeconds: 3, periodSeconds: 5 },
                liveness: { httpGet: { path: "/health", port: 3000 }, failureThreshold: 5, initialDelaySeconds: 3, periodSeconds: 3 },
            },
            // The quickstart's `nc -z rabbitmq 5672` only proves a TCP connect, which the sidecar
            // accepts before RabbitMQ is up. Sending a non-AMQP header makes a live broker answer
            // with its own "AMQP" protocol header, so this waits for RabbitMQ itself, over mTLS,
            // through the native sidecar that starts before init containers (asm-1-29+ default,
            // with or without Istio CNI). No UID 1337 and no port exclusions needed.
            initContainers: [{
                name: "wait-for-rabbitmq",
                image: "busybox:1.37.0",
                command: ["sh", "-c", "until printf 'PING\\r\\n\\r\\n' | nc -w 5 rabbitmq 5672 | grep -q AMQP; do echo waiting for rabbitmq; sleep 2; done"],
                resources: { requests: { cpu: "1m", memory: "50Mi" }, limits: { cpu: "75m", memory: "128Mi" } },
            }],
        },
        {
            name: "product-service",
            image: "ghcr.io/azure-samples/aks-store-demo/product-service:2.2.0",
            ports: [{ port: 3002, protocol: "http" }],
            resources: { requests: { cpu: "1m", memory: "1Mi" }, limits: { cpu: "2m", memory: "20Mi" } },
            probes: {
                readiness: { httpGet: { path: "/health", port: 3002 }, failureThreshold: 3, initialDelaySeconds: 3, periodSeconds: 5 },
                liveness: { httpGet: { path: "/health", port: 3002 }, failureThreshold: 5, initialDelaySeconds: 3, periodSeconds: 3 },
            },
        },
        {
            name: "rabbitmq",
            workload: "StatefulSet",
            image: "rabbitmq:4.3.2-management-alpine",
            ports: [{ name: "amqp", port: 5672, protocol: "tcp" }, { name: "management", port: 15672, protocol: "http" }],
            resources: { requests: { cpu: "10m", memory: "128Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
            files: {
                // order-service sends to a bare queue name, AMQP 1.0 address format v1, which RabbitMQ
                // 4.3 denies by default (amqp_address_v1_not_permitted): every order would fail while
                // the pods look healthy. conf.d keeps the image's own defaults beside this file.
                "/etc/rabbitmq/conf.d/90-amqp-address-v1.conf": "deprecated_features.permit.amqp_address_v1 = true\n",
            },
            secretEnv: {
                RABBITMQ_DEFAULT_USER: { secret: RABBITMQ, key: "username" },
                RABBITMQ_DEFAULT_PASS: { secret: RABBITMQ, key: "password" },
            },
            probes: {
                startup: { tcpPort: 5672, failureThreshold: 30, initialDelaySeconds: 10, periodSeconds: 10 },
                readiness: { tcpPort: 5672, failureThreshold: 3, initialDelaySeconds: 5, periodSeconds: 5 },
                liveness: { tcpPort: 5672, failureThreshold: 3, initialDelaySeconds: 30, periodSeconds: 10 },
            },
        },
    ],
    calls: [
        { from: "store-front", to: "order-service", port: 3000 },
        { from: "store-front", to: "product-service", port: 3002 },
        { from: "order-service", to: "rabbitmq", port: 5672 },
    ],
    ingress: [{ service: "store-front", port: 8080, paths: [{ match: "prefix", path: "/" }] }],
};
