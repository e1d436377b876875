"""Checkov custom checks equal to bench/iac/rules/bench.proviso, CloudFormation half."""
from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

CFN_TYPES = ["AWS::ECS::Cluster", "AWS::IAM::Role", "AWS::S3::Bucket", "AWS::ECS::Service",
             "AWS::Lambda::Function", "AWS::SQS::Queue", "AWS::DynamoDB::Table", "AWS::EC2::Instance",
             "AWS::SNS::Topic", "AWS::Logs::LogGroup"]


def tags_of(conf):
    tags = (conf.get("Properties") or {}).get("Tags") or []
    out = {}
    if isinstance(tags, list):
        for t in tags:
            if isinstance(t, dict) and "Key" in t and "Value" in t:
                out[t["Key"]] = t["Value"]
    elif isinstance(tags, dict):
        out.update(tags)
    return out


class StatelessOnAzure(BaseResourceCheck):
    def __init__(self):
        super().__init__(name="Stateless APIs are served only from Azure", id="CKV_PROVISO_CFN_1",
                         categories=[CheckCategories.GENERAL_SECURITY], supported_resources=CFN_TYPES)

    def scan_resource_conf(self, conf):
        # Every CloudFormation resource is on AWS: a stateless one fails.
        return CheckResult.FAILED if tags_of(conf).get("api-mode") == "stateless" else CheckResult.PASSED


class BucketVersioning(BaseResourceCheck):
    def __init__(self):
        super().__init__(name="Buckets keep versions", id="CKV_PROVISO_CFN_2",
                         categories=[CheckCategories.BACKUP_AND_RECOVERY], supported_resources=["AWS::S3::Bucket"])

    def scan_resource_conf(self, conf):
        status = ((conf.get("Properties") or {}).get("VersioningConfiguration") or {}).get("Status")
        return CheckResult.PASSED if status == "Enabled" else CheckResult.FAILED


check1 = StatelessOnAzure()
check2 = BucketVersioning()
