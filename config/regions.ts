/**
 * Azure public-cloud regions as ARM names them (`az account list-locations --query "[].name"`):
 * `azure-native:location` must be one, so a typo is refused here rather than by Azure mid-deploy.
 * A region Azure opens later is added here; the message says so.
 */
export const AZURE_REGIONS: readonly string[] = [
    "australiacentral", "australiacentral2", "australiaeast", "australiasoutheast", "austriaeast", "belgiumcentral",
    "brazilsouth", "brazilsoutheast", "canadacentral", "canadaeast", "centralindia", "centralus", "chilecentral",
    "denmarkeast", "eastasia", "eastus", "eastus2", "francecentral", "francesouth", "germanynorth", "germanywestcentral",
    "indonesiacentral", "israelcentral", "italynorth", "japaneast", "japanwest", "jioindiacentral", "jioindiawest",
    "koreacentral", "koreasouth", "malaysiawest", "mexicocentral", "newzealandnorth", "northcentralus", "northeurope",
    "norwayeast", "norwaywest", "polandcentral", "qatarcentral", "southafricanorth", "southafricawest", "southcentralus",
    "southeastasia", "southindia", "spaincentral", "swedencentral", "swedensouth", "switzerlandnorth", "switzerlandwest",
    "uaecentral", "uaenorth", "uksouth", "ukwest", "westcentralus", "westeurope", "westindia", "westus", "westus2", "westus3",
];

/** ARM also takes the display name ("West Europe"): compared without case and spaces. */
export function regionName(location: string): string | undefined {
    const n = location.toLowerCase().replace(/\s+/g, "");
    return AZURE_REGIONS.includes(n) ? n : undefined;
}
