"""Kubernetes manifests: one StatefulSet and Service per service, an Ingress, a kustomization.

A StatefulSet rather than a Deployment because it gives what the platform gave
an instance: a number (the pod's ordinal becomes ``DOTCLOUD_SERVICE_ID``) and a
``~/data`` of its own (a claim per pod). HTTP services are reached through
their Service on port 80 and published by the Ingress at
``<service>.<app>.<domain>``; TCP ports get a NodePort Service, whose public
numbers differ from the bound ones, as on the platform. Generated passwords are
never in the manifests: ``kustomization.yaml`` makes the Secret from the files
in ``secrets/`` (``kubectl apply -k .``).
"""

from __future__ import annotations

from typing import Any

from kit.export.common import SECRETS_FOLDER, data_env, dump, service_env
from kit.export.environ import SECRETS_DIR, k8s_name
from kit.export.plan import Plan
from kit.files import OutFile
from kit.platform.facts import DATA, HTTP_PORT
from kit.platform.model import Service

FOLDER = "kubernetes"
KUSTOMIZATION = "kustomization.yaml"
DATA_SIZE = "1Gi"
FS_GROUP = 1000


def secret_object(plan: Plan) -> str:
    return f"{plan.options.app}-secrets"


def _labels(plan: Plan, service: Service) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": k8s_name(service.name),
        "app.kubernetes.io/part-of": plan.options.app,
    }


def _container(
    image: str, name: str, env: dict[str, str], ports: list[dict[str, Any]], args: list[str]
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "env": [{"name": k, "value": v} for k, v in env.items()],
        "ports": ports,
        "volumeMounts": [{"name": "data", "mountPath": DATA}],
    }
    if args:
        container["args"] = args
    return container


def _statefulset(
    plan: Plan,
    service: Service,
    container: dict[str, Any],
    replicas: int,
    secrets: list[str],
) -> dict[str, Any]:
    labels = _labels(plan, service)
    pod: dict[str, Any] = {
        "enableServiceLinks": False,  # the platform's keys only, not Kubernetes' own
        "securityContext": {"fsGroup": FS_GROUP},
        "containers": [container],
    }
    if secrets:
        container["volumeMounts"].append(
            {"name": "secrets", "mountPath": SECRETS_DIR, "readOnly": True}
        )
        pod["volumes"] = [
            {
                "name": "secrets",
                "secret": {
                    "secretName": secret_object(plan),
                    "items": [{"key": s, "path": s} for s in secrets],
                },
            }
        ]
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": k8s_name(service.name), "labels": labels},
        "spec": {
            "serviceName": k8s_name(service.name),
            "replicas": replicas,
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod},
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": DATA_SIZE}},
                    },
                }
            ],
        },
    }


def _service(
    plan: Plan, service: Service, ports: list[dict[str, Any]], *, suffix: str = "", kind: str = ""
) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": _labels(plan, service), "ports": ports}
    if kind:
        spec["type"] = kind
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": k8s_name(service.name) + suffix, "labels": _labels(plan, service)},
        "spec": spec,
    }


def _code_docs(plan: Plan, refs: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for code in plan.code:
        service = code.service
        env, secrets = service_env(plan, service)
        env["DOTKIT_INSTANCE_FROM"] = "hostname"
        tcp = [{"name": f"tcp-{i}", "containerPort": n} for i, (_, n) in enumerate(code.tcp)]
        ports = [{"name": "http", "containerPort": HTTP_PORT}, *tcp]
        container = _container(refs[service.name], k8s_name(service.name), env, ports, [])
        docs = [_statefulset(plan, service, container, code.replicas, secrets)]
        docs.append(
            _service(plan, service, [{"name": "http", "port": 80, "targetPort": HTTP_PORT}])
        )
        if code.tcp:
            published = [
                {"name": p["name"], "port": p["containerPort"], "targetPort": p["containerPort"]}
                for p in tcp
            ]
            docs.append(_service(plan, service, published, suffix="-tcp", kind="NodePort"))
        out[k8s_name(service.name)] = docs
    return out


def _data_docs(plan: Plan) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for data in plan.data:
        service = data.service
        env, secrets = data_env(plan, data)
        ports = [{"name": data.port_name, "containerPort": data.port}]
        name = k8s_name(service.name)
        container = _container(data.image, name, env, ports, [service.type])
        out[name] = [
            _statefulset(plan, service, container, 1, secrets),
            _service(plan, service, [{"name": data.port_name, "port": data.port}]),
        ]
    return out


def _ingress(plan: Plan) -> dict[str, Any]:
    rules = [
        {
            "host": f"{k8s_name(code.service.name)}.{plan.options.app}.{plan.options.domain}",
            "http": {
                "paths": [
                    {
                        "path": "/",
                        "pathType": "Prefix",
                        "backend": {
                            "service": {"name": k8s_name(code.service.name), "port": {"number": 80}}
                        },
                    }
                ]
            },
        }
        for code in plan.code
    ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": plan.options.app},
        "spec": {"rules": rules},
    }


def render(plan: Plan, refs: dict[str, str]) -> list[OutFile]:
    header = f"# {plan.options.app} on Kubernetes, written by dotkit export. kubectl apply -k .\n"
    files: list[OutFile] = []
    by_name = {**_code_docs(plan, refs), **_data_docs(plan)}
    for name, docs in by_name.items():
        text = b"---\n".join(dump(doc, "") for doc in docs)
        files.append(OutFile(f"{FOLDER}/{name}.yaml", header.encode() + text))
    if plan.code:
        files.append(OutFile(f"{FOLDER}/ingress.yaml", dump(_ingress(plan), header)))
    kustomization: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(f.path for f in files),
    }
    if plan.secrets:
        kustomization["secretGenerator"] = [
            {
                "name": secret_object(plan),
                "files": [f"{s}={SECRETS_FOLDER}/{s}" for s in plan.secrets],
            }
        ]
        kustomization["generatorOptions"] = {"disableNameSuffixHash": True}
    files.append(OutFile(KUSTOMIZATION, dump(kustomization, header)))
    return files
