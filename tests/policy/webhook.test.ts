import * as assert from "assert";
import { find, goodMesh, NS } from "./fixtures/mesh";
import { cases, messages, verdicts } from "./helpers";

type Objects = Parameters<typeof find>[0];
const vs = (o: Objects) => find(o, "VirtualService", "api");
const gw = (o: Objects) => find(o, "Gateway", "web-gateway");
const ap = (o: Objects) => find(o, "AuthorizationPolicy", "api-from-web", NS);

describe("policy: what istiod's webhook refuses", () => {
    cases([
        { name: "an HTTP route with no route, redirect or directResponse", change: (o) => { delete vs(o).spec.http[0].route; }, expect: ["virtual-service-route-action"] },
        { name: "a redirect is an action", change: (o) => { vs(o).spec.http[0] = { redirect: { uri: "/v2" } }; }, expect: [] },
        { name: "a negative weight", change: (o) => { vs(o).spec.http[0].route[1].weight = -20; }, expect: ["virtual-service-route-weights"] },
        {
            name: "all weights 0 across two destinations",
            change: (o) => { vs(o).spec.http[0].route[0].weight = 0; delete vs(o).spec.http[0].route[1].weight; },
            expect: ["virtual-service-route-weights"],
        },
        { name: "a 70/20 split (no longer required to total 100)", change: (o) => { vs(o).spec.http[0].route[0].weight = 70; vs(o).spec.http[0].route[1].weight = 20; }, expect: [] },
        { name: "a Gateway port outside 1-65535", change: (o) => { gw(o).spec.servers[0].port.number = 70000; }, expect: ["gateway-port-range", "gateway-ports:IST0162"] },
        {
            name: "a Gateway name with a dot (valid subdomain, invalid for istiod)",
            change: (o) => { gw(o).metadata.name = "web.gateway"; find(o, "VirtualService", "web-ingress").spec.gateways = ["web.gateway"]; },
            expect: ["gateway-name"],
        },
        { name: "AuthorizationPolicy CUSTOM without provider", change: (o) => { ap(o).spec.action = "CUSTOM"; }, expect: ["authorization-policy-action", "authorization-policy-istiod"] },
        { name: "AuthorizationPolicy provider with ALLOW", change: (o) => { ap(o).spec.provider = { name: "ext-authz" }; }, expect: ["authorization-policy-action"] },
        { name: "AuthorizationPolicy DENY without rules", change: (o) => { ap(o).spec.action = "DENY"; delete ap(o).spec.rules; }, expect: ["authorization-policy-action"] },
        { name: "a Sidecar egress listener without hosts", change: (o) => { find(o, "Sidecar", "default").spec.egress[0].hosts = []; }, expect: ["sidecar-egress-hosts"] },
        { name: "duplicate DestinationRule subset names", change: (o) => { find(o, "DestinationRule", "api").spec.subsets[1].name = "v1"; }, expect: ["destination-rule-subset-names", "virtual-service-references:IST0101"] },
    ]);

    it("names the field at fault", () => {
        const objects = goodMesh();
        vs(objects).spec.http[0].route[1].weight = -20;
        gw(objects).spec.servers[1].port.number = 0;
        assert.deepStrictEqual(messages(objects, "virtual-service-route-weights"), ["spec.http[0].route[1].weight -20 is negative"]);
        assert.deepStrictEqual(messages(objects, "gateway-port-range"), ["spec.servers[1].port.number 0 is outside 1-65535"]);
    });

    it("leaves an HTTPS server without tls to gateway-tls alone (one finding, not two)", () => {
        const objects = goodMesh();
        delete gw(objects).spec.servers[1].tls;
        assert.deepStrictEqual(verdicts(objects), ["gateway-tls"]);
    });
});
