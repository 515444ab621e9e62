"""Every Kubernetes API call the operator makes (besides kopf's own watching), behind one class.

``Kube`` wraps the official client with raw JSON in and out (``_preload_content=False``): the operator
works on plain dicts in wire form (camelCase), as the builders in ``jobs`` produce them. Creation is
idempotent (409 means "already there", which is what a restarted operator expects).
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from frontier.api import GROUP, PLURAL, VERSION
from frontier.operator.jobs import LABEL_MODEL, MANAGED_BY

JSON = dict[str, Any]


class Kube:
    def __init__(self, api: client.ApiClient) -> None:
        self.api = api
        self.core = client.CoreV1Api(api)
        self.batch = client.BatchV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.rbac = client.RbacAuthorizationV1Api(api)

    @classmethod
    def connect(cls, kubeconfig: str | None = None) -> Kube:
        """From a kubeconfig file, else in-cluster service-account credentials, else ~/.kube/config."""
        configuration = client.Configuration()
        if kubeconfig:
            config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)  # type: ignore[no-untyped-call]
        else:
            try:
                config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            except config.ConfigException:
                config.load_kube_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        return cls(client.ApiClient(configuration))

    def connection(self) -> dict[str, Any]:
        """The same credentials for kopf's own client (``kopf.ConnectionInfo`` keyword arguments)."""
        c = self.api.configuration
        token = (c.api_key or {}).get("authorization") or (c.api_key or {}).get("BearerToken")
        scheme = None
        if token and " " in token:
            scheme, token = token.split(" ", 1)
        return {
            "server": c.host,
            "ca_path": c.ssl_ca_cert,
            "insecure": not c.verify_ssl,
            "scheme": scheme or ("Bearer" if token else None),
            "token": token,
            "certificate_path": c.cert_file,
            "private_key_path": c.key_file,
        }

    def close(self) -> None:
        self.api.close()  # type: ignore[no-untyped-call]

    # ------------------------------------------------------------------------------ helpers

    @staticmethod
    def _json(response: Any) -> JSON:
        data: JSON = json.loads(response.data or b"{}")
        return data

    @staticmethod
    def selector(model: str, role: str | None = None) -> str:
        parts = [f"app.kubernetes.io/managed-by={MANAGED_BY}", f"{LABEL_MODEL}={model}"]
        if role:
            parts.append(f"frontier.dev/role={role}")
        return ",".join(parts)

    # ------------------------------------------------------------------------- ClassifierModel

    def get_model(self, namespace: str, name: str) -> JSON | None:
        try:
            return self._json(
                self.custom.get_namespaced_custom_object(
                    GROUP, VERSION, namespace, PLURAL, name, _preload_content=False
                )
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def patch_model_status(self, namespace: str, name: str, patch: JSON) -> JSON:
        return self._json(
            self.custom.patch_namespaced_custom_object_status(
                GROUP, VERSION, namespace, PLURAL, name, patch, _preload_content=False
            )
        )

    def patch_model_annotations(self, namespace: str, name: str, annotations: dict[str, str]) -> None:
        self.custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            namespace,
            PLURAL,
            name,
            {"metadata": {"annotations": annotations}},
            _preload_content=False,
        )

    def list_models(self, namespace: str | None = None) -> list[JSON]:
        if namespace:
            raw = self.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, _preload_content=False)
        else:
            raw = self.custom.list_cluster_custom_object(GROUP, VERSION, PLURAL, _preload_content=False)
        items: list[JSON] = self._json(raw).get("items", [])
        return items

    # ------------------------------------------------------------------------------ Jobs

    def list_jobs(self, namespace: str, model: str) -> dict[str, JSON]:
        raw = self.batch.list_namespaced_job(namespace, label_selector=self.selector(model), _preload_content=False)
        return {job["metadata"]["name"]: job for job in self._json(raw).get("items", [])}

    def create_job(self, job: JSON) -> bool:
        """True when created, False when a Job of that name already exists."""
        try:
            self.batch.create_namespaced_job(job["metadata"]["namespace"], job, _preload_content=False)  # type: ignore[arg-type]
            return True
        except ApiException as error:
            if error.status == 409:
                return False
            raise

    def get_job(self, namespace: str, name: str) -> JSON | None:
        try:
            return self._json(self.batch.read_namespaced_job(name, namespace, _preload_content=False))
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def delete_job(self, namespace: str, name: str) -> bool:
        """True when deleted, False when it was already gone. Its pods go with it (Background)."""
        try:
            self.batch.delete_namespaced_job(name, namespace, propagation_policy="Background", _preload_content=False)
            return True
        except ApiException as error:
            if error.status == 404:
                return False
            raise

    def delete_jobs(self, namespace: str, model: str) -> int:
        names = list(self.list_jobs(namespace, model))
        for name in names:
            try:
                self.batch.delete_namespaced_job(
                    name, namespace, propagation_policy="Background", _preload_content=False
                )
            except ApiException as error:
                if error.status != 404:
                    raise
        return len(names)

    # ------------------------------------------------------------------------------ Job identities

    def ensure_job_identity(self, objects: list[JSON]) -> int:
        """Create a Job's ServiceAccount, Role and RoleBinding (``jobs.job_identity``), in that order, before
        the Job; each one already there is left as it is (409). Returns how many were created.

        The API server lets the operator create a Role only with permissions it holds itself (get and patch
        on configmaps in that namespace), and a RoleBinding only to such a Role: it can never grant more."""
        created = 0
        for document in objects:
            namespace, kind = document["metadata"]["namespace"], document["kind"]
            try:
                if kind == "ServiceAccount":
                    self.core.create_namespaced_service_account(namespace, document, _preload_content=False)  # type: ignore[arg-type]
                elif kind == "Role":
                    self.rbac.create_namespaced_role(namespace, document, _preload_content=False)  # type: ignore[arg-type]
                elif kind == "RoleBinding":
                    self.rbac.create_namespaced_role_binding(namespace, document, _preload_content=False)  # type: ignore[arg-type]
                else:
                    raise ValueError(f"not part of a Job's identity: {kind}")
                created += 1
            except ApiException as error:
                if error.status != 409:
                    raise
        return created

    # ------------------------------------------------------------------------------ ConfigMaps

    def create_configmap(self, configmap: JSON) -> bool:
        try:
            self.core.create_namespaced_config_map(
                configmap["metadata"]["namespace"],
                configmap,  # type: ignore[arg-type]
                _preload_content=False,
            )
            return True
        except ApiException as error:
            if error.status == 409:
                return False
            raise

    def get_configmap(self, namespace: str, name: str) -> JSON | None:
        try:
            return self._json(self.core.read_namespaced_config_map(name, namespace, _preload_content=False))
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def delete_configmaps(self, namespace: str, model: str) -> int:
        raw = self.core.list_namespaced_config_map(
            namespace, label_selector=self.selector(model), _preload_content=False
        )
        names = [cm["metadata"]["name"] for cm in self._json(raw).get("items", [])]
        for name in names:
            try:
                self.core.delete_namespaced_config_map(name, namespace, _preload_content=False)
            except ApiException as error:
                if error.status != 404:
                    raise
        return len(names)
