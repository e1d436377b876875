"""Checkov custom checks equal to bench/iac/rules/bench.proviso, ARM half."""
from checkov.arm.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

ARM_TYPES = ["Microsoft.Storage/storageAccounts", "Microsoft.Web/serverfarms", "Microsoft.Web/sites",
             "Microsoft.KeyVault/vaults"]
US = {"eastus", "eastus2", "centralus", "westus2", "westus3"}


class FederalInUs(BaseResourceCheck):
    def __init__(self):
        super().__init__(name="Federal Azure workloads stay in US regions", id="CKV_PROVISO_ARM_1",
                         categories=[CheckCategories.GENERAL_SECURITY], supported_resources=ARM_TYPES)

    def scan_resource_conf(self, conf):
        tags = conf.get("tags") or {}
        if tags.get("segment") != "federal":
            return CheckResult.PASSED
        return CheckResult.PASSED if conf.get("location") in US else CheckResult.FAILED


class StorageTls(BaseResourceCheck):
    def __init__(self):
        super().__init__(name="Storage accounts require TLS 1.2", id="CKV_PROVISO_ARM_2",
                         categories=[CheckCategories.ENCRYPTION],
                         supported_resources=["Microsoft.Storage/storageAccounts"])

    def scan_resource_conf(self, conf):
        tls = (conf.get("properties") or {}).get("minimumTlsVersion")
        return CheckResult.PASSED if tls == "TLS1_2" else CheckResult.FAILED


check1 = FederalInUs()
check2 = StorageTls()
