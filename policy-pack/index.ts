import { PolicyPack } from "@pulumi/policy";
import { buildPolicies } from "./policies";

new PolicyPack("aks-istio-mesh", {
    description: "STRICT mTLS, revision labels, AKS Istio add-on rules and istioctl-analyze checks for AKS service meshes.",
    policies: buildPolicies(),
});
