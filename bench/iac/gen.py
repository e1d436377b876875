#!/usr/bin/env python3
"""Generates the IaC benchmark: N CloudFormation templates (YAML, written the
way AWS's samples write them: Parameters with defaults, Conditions, !Sub,
!Ref, !GetAtt, !If with AWS::NoValue) and N ARM templates (JSON, written the
way Microsoft's quickstarts write them: parameters with defaultValue,
variables, [parameters('…')], [concat(…)], [resourceGroup().location]), each
with 20 resources. Standard library only; deterministic (seeded).

  gen.py OUT_DIR [--templates 500] [--resources 20]

writes OUT_DIR/cfn/*.yaml and OUT_DIR/arm/*.json.
"""
import argparse
import json
import os
import random

CFN_TYPES = ["bucket", "service", "function", "queue", "table", "instance", "topic", "loggroup"]


def cfn_resource(kind, i, rnd):
    name = f"{kind.capitalize()}{i}"
    mode = rnd.choice(["stateless", "stateful", None])
    tags = [{"Key": "owner", "Value": "platform-team"}]
    if mode:
        tags += [{"Key": "model-vendor", "Value": "openai"}, {"Key": "api-mode", "Value": mode}]
    tag_yaml = "".join(f"\n        - Key: {t['Key']}\n          Value: {t['Value']}" for t in tags)
    if kind == "bucket":
        versioning = rnd.choice(["Enabled", "Suspended", None])
        vc = f"\n      VersioningConfiguration:\n        Status: {versioning}" if versioning else ""
        body = f"""    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${{Company}}-${{Env}}-{name.lower()}"{vc}
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: aws:kms"""
    elif kind == "service":
        body = f"""    Type: AWS::ECS::Service
    Properties:
      ServiceName: !Sub "${{Company}}-${{Env}}-{name.lower()}"
      Cluster: !Ref Cluster
      DesiredCount: !If [IsProd, 4, 1]
      LaunchType: FARGATE
      NetworkConfiguration:
        AwsvpcConfiguration:
          Subnets: !Ref SubnetIds"""
    elif kind == "function":
        body = f"""    Type: AWS::Lambda::Function
    Properties:
      FunctionName: !Sub "${{Company}}-${{Env}}-{name.lower()}"
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      MemorySize: !If [IsProd, 1024, 256]
      Code:
        ZipFile: |
          def handler(event, context):
              return {{"ok": True}}"""
    elif kind == "queue":
        body = f"""    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${{Company}}-${{Env}}-{name.lower()}"
      KmsMasterKeyId: !If [IsProd, alias/aws/sqs, !Ref AWS::NoValue]"""
    elif kind == "table":
        body = f"""    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Join ["-", [!Ref Company, !Ref Env, {name.lower()}]]
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - AttributeName: id
          AttributeType: S
      KeySchema:
        - AttributeName: id
          KeyType: HASH"""
    elif kind == "instance":
        body = """    Type: AWS::EC2::Instance
    Properties:
      ImageId: !FindInMap [RegionMap, us-east-1, AMI]
      InstanceType: !If [IsProd, m7i.large, t3.small]
      SubnetId: !Select [0, !Ref SubnetIds]"""
    elif kind == "topic":
        body = f"""    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub "${{Company}}-${{Env}}-{name.lower()}\""""
    else:
        body = f"""    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub "/acme/${{Env}}/{name.lower()}"
      RetentionInDays: 30"""
    return f"  {name}:\n{body}\n      Tags:{tag_yaml}\n"


def cfn_template(n, resources, rnd):
    out = [f"""AWSTemplateFormatVersion: "2010-09-09"
Description: Generated service stack {n}
Parameters:
  Company:
    Type: String
    Default: acme
  Env:
    Type: String
    Default: prod
    AllowedValues: [dev, prod]
  SubnetIds:
    Type: CommaDelimitedList
    Default: subnet-0aa11bb22cc33dd44,subnet-0ee55ff66aa77bb88
Mappings:
  RegionMap:
    us-east-1:
      AMI: ami-0ff8a91507f77f867
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Cluster:
    Type: AWS::ECS::Cluster
    Properties:
      ClusterName: !Sub "${{Company}}-${{Env}}-{n}"
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              Service: lambda.amazonaws.com
            Action: sts:AssumeRole
"""]
    for i in range(resources - 2):
        out.append(cfn_resource(CFN_TYPES[(n + i) % len(CFN_TYPES)], i, rnd))
    return "".join(out)


ARM_LOCATIONS = ["eastus", "eastus2", "westeurope", "northeurope", "westus2"]


def arm_template(n, resources, rnd):
    res = []
    for i in range(resources):
        kind = i % 4
        tags = {"owner": "platform-team"}
        if rnd.random() < 0.3:
            tags["segment"] = "federal"
        loc = rnd.choice(ARM_LOCATIONS)
        if kind == 0:
            tls = rnd.choice(["TLS1_2", "TLS1_0", None])
            props = {"supportsHttpsTrafficOnly": True}
            if tls:
                props["minimumTlsVersion"] = tls
            res.append({
                "type": "Microsoft.Storage/storageAccounts",
                "apiVersion": "2023-01-01",
                "name": f"[concat(variables('prefix'), 'st{i}')]",
                "location": loc,
                "sku": {"name": "Standard_LRS"},
                "kind": "StorageV2",
                "tags": tags,
                "properties": props,
            })
        elif kind == 1:
            res.append({
                "type": "Microsoft.Web/serverfarms",
                "apiVersion": "2022-03-01",
                "name": f"[concat(variables('prefix'), '-plan{i}')]",
                "location": loc,
                "sku": {"name": "[parameters('sku')]"},
                "tags": tags,
                "properties": {"reserved": True},
            })
        elif kind == 2:
            res.append({
                "type": "Microsoft.Web/sites",
                "apiVersion": "2022-03-01",
                "name": f"[format('{{0}}-app{i}', variables('prefix'))]",
                "location": loc,
                "tags": tags,
                "properties": {"httpsOnly": True, "siteConfig": {"minTlsVersion": "1.2"}},
            })
        else:
            res.append({
                "type": "Microsoft.KeyVault/vaults",
                "apiVersion": "2023-07-01",
                "name": f"[concat(variables('prefix'), 'kv{i}')]",
                "location": loc,
                "tags": tags,
                "properties": {"tenantId": "[subscription().tenantId]", "sku": {"family": "A", "name": "standard"},
                               "accessPolicies": []},
            })
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "env": {"type": "string", "defaultValue": "prod"},
            "sku": {"type": "string", "defaultValue": "P1v3"},
        },
        "variables": {"prefix": f"[concat('acme', parameters('env'), '{n}')]"},
        "resources": res,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--templates", type=int, default=500)
    ap.add_argument("--resources", type=int, default=20)
    a = ap.parse_args()
    rnd = random.Random(19)
    os.makedirs(os.path.join(a.out, "cfn"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "arm"), exist_ok=True)
    for n in range(a.templates):
        with open(os.path.join(a.out, "cfn", f"stack-{n:04d}.yaml"), "w") as f:
            f.write(cfn_template(n, a.resources, rnd))
        with open(os.path.join(a.out, "arm", f"azuredeploy-{n:04d}.json"), "w") as f:
            json.dump(arm_template(n, a.resources, rnd), f, indent=2)
    print(f"{a.templates} CloudFormation and {a.templates} ARM templates of {a.resources} resources in {a.out}")


if __name__ == "__main__":
    main()
