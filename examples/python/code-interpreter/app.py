#!/usr/bin/env python3
"""An AI-agent code-execution sandbox: one isolated MicroVM per conversation.

The Python twin of examples/code-interpreter/app.ts (kept equivalent by a test) and the same sandbox folder.
"""
import os

from aws_cdk import App, CfnOutput, Duration, Environment, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from cdk_lambda_microvms import (
    CheckpointOptions,
    Egress,
    Hook,
    IdlePolicy,
    ImageCode,
    Ingress,
    LifecycleHooks,
    MicrovmChecks,
    MicrovmImage,
    MicrovmLogging,
    MicrovmMemory,
    MicrovmNetwork,
    MicrovmOrchestrator,
    SmokeTest,
)

SANDBOX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "code-interpreter", "sandbox")


class CodeInterpreterStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)

        # one customer-managed key for the image (its configuration at rest, as CloudFormation documents it), the
        # sessions table and every log group: you decide who can decrypt them.
        key = kms.Key(self, "Key", enable_key_rotation=True, description="Encrypts the MicroVM image configuration and build logs, the sessions table and the logs")

        # the interpreter listens on 8080; hooks live on 9000, a port no token ever covers.
        image = MicrovmImage(
            self,
            "Interpreter",
            code=ImageCode.from_directory(SANDBOX),
            encryption_key=key,
            description="Python code interpreter, one MicroVM per conversation",
            memory=MicrovmMemory.GIB_1,
            hooks=LifecycleHooks(
                port=9000,
                ready=Hook.enabled(Duration.minutes(2)),
                run=Hook.enabled(Duration.seconds(5)),
            ),
            environment={"EXECUTION_TIMEOUT_SECONDS": "30", "LOG_LEVEL": "info"},
        )

        # no route out and no outbound rules: generated code reaches nothing but its own VM.
        network = MicrovmNetwork(self, "Isolated", logging=MicrovmLogging.new_log_group(encryption_key=key))

        self.orchestrator = MicrovmOrchestrator(
            self,
            "Conversations",
            image=image,
            encryption_key=key,
            egress=Egress.network(network),
            ingress=[Ingress.http()],
            app_ports=[8080],
            # every new image version is launched once at deploy time and must answer /health before any session gets it.
            smoke_test=SmokeTest.http(path="/health"),
            token_ttl=Duration.minutes(5),
            idle_policy=IdlePolicy.suspend_after(Duration.minutes(15), terminate_after=Duration.hours(1)),
            max_session_duration=Duration.hours(2),
            max_sessions_per_owner=50,
            # the workspace outlives the VM: saved to S3 15 minutes before the end and on every idle suspension,
            # restored by the /run hook of the next launch (sandbox/checkpoint.py). 8181 is served only for the
            # orchestrator's own 5-minute tokens; the isolated network gets an S3 endpoint admitting only the bucket.
            checkpoints=CheckpointOptions(port=8181, on_suspend=True),
        )

        # the agent backend that creates a session per conversation.
        agent = iam.Role(self, "AgentBackend", assumed_by=iam.AccountRootPrincipal())
        self.orchestrator.grant_sessions(agent)

        CfnOutput(self, "SessionApiUrl", value=self.orchestrator.url)
        CfnOutput(self, "AgentBackendRoleArn", value=agent.role_arn)


def build_app(app: App) -> App:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), MicrovmChecks(app))
    CodeInterpreterStack(
        app,
        "CodeInterpreter",
        # a region but no account: ARNs are concrete, and synth needs no AWS lookups.
        env=Environment(region=os.environ.get("CDK_DEFAULT_REGION", "us-east-1")),
    )
    return app


if __name__ == "__main__":
    build_app(App()).synth()
