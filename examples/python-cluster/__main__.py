"""A three-node containerd cluster's registry setup, declared in Python through the registry-setup component package.

The SDK (`pulumi_registry_setup`) is generated from the package's schema by `pulumi package add ../../plugin`.
"""
import pulumi
import pulumi_registry_setup as registry_setup

config = pulumi.Config()
private_key = config.require_secret("sshPrivateKey")
mirror = config.get("mirror") or "http://10.0.0.5:5000"

setup = registry_setup.ClusterRegistries(
    "staging",
    registries={
        "docker.io": registry_setup.RegistryArgs(
            mirrors=[registry_setup.MirrorArgs(endpoint=mirror)],
        ),
        "registry.k8s.io": registry_setup.RegistryArgs(
            mirrors=[
                registry_setup.MirrorArgs(
                    endpoint="https://registry.aliyuncs.com/v2/google_containers",
                    override_path=True,
                )
            ],
        ),
        "registry.corp.example:5443": registry_setup.RegistryArgs(
            tls=registry_setup.TlsArgs(ca=config.get("corpCa")),
            auth=registry_setup.CredentialsArgs(
                username="ci-bot",
                password=config.require_secret("corpPassword"),
            ),
        ),
    },
    nodes=[
        registry_setup.ClusterNodeArgs(
            name=f"node{i + 1}",
            connection=registry_setup.SshConnectionArgs(
                host=host,
                user="root",
                private_key=private_key,
                host_key=config.get(f"hostKey{i + 1}"),
            ),
            profiles=[
                registry_setup.RuntimeProfileArgs(kind=registry_setup.ProfileKind.CONTAINERD),
                registry_setup.RuntimeProfileArgs(kind=registry_setup.ProfileKind.KUBELET),
            ],
        )
        for i, host in enumerate(["10.0.0.11", "10.0.0.12", "10.0.0.13"])
    ],
    max_unavailable=1,
    drift=registry_setup.DriftMode.FAIL,
)

pulumi.export("files", setup.files)
pulumi.export("summaries", setup.summaries)
