#!/usr/bin/env python3
"""Minimal kustomize renderer for deploy/k8s, used when no kustomize is at hand.

`kubectl kustomize` (kustomize v5) is the real renderer. Debian's kubectl (1.20)
carries kustomize v2, which predates `patches:`, and PyPI has no kustomize binary,
so .ci/check-deploy falls back to this file on a machine without a recent kubectl;
when kubectl is there it renders with both and checks that they agree.

It implements exactly the features deploy/k8s uses, and refuses any other key:
  resources (files and directories), configMapGenerator (files, literals,
  options.labels/annotations, options.disableNameSuffixHash, kustomize's content
  hash suffix and the rewriting of references to the generated name), namespace,
  images (newName/newTag/digest), patches (strategic merge, from `path:` or
  `patch:`, lists of objects merged by `name`).
Its output equals kubectl kustomize's as data (documents compared as parsed YAML).

Usage: kustomize_lite.py DIR  (prints the rendered multi-document YAML)
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import sys

import yaml

SUPPORTED_KEYS = {
    "apiVersion", "kind", "resources", "configMapGenerator", "namespace", "images", "patches",
}
CLUSTER_SCOPED = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "PersistentVolume", "StorageClass", "PriorityClass", "IngressClass",
    "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
}


class RenderError(Exception):
    pass


def load_docs(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def go_json(value) -> str:
    """json.Marshal as Go writes it: sorted keys, compact, HTML characters escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for ch, esc in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def configmap_hash(cm: dict) -> str:
    """kustomize v5's api/hasher: sha256 of {kind,name,data} (the name is still empty
    when kustomize hashes a generated map), first 10 hex digits, no vowels."""
    m = {"kind": "ConfigMap", "name": "", "data": cm.get("data", {})}
    digest = hashlib.sha256(go_json(m).encode("utf-8")).hexdigest()[:10]
    return digest.translate(str.maketrans({"0": "g", "1": "h", "3": "k", "a": "m", "e": "t"}))


def strategic_merge(base, patch):
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = strategic_merge(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
        return out
    if (isinstance(base, list) and isinstance(patch, list)
            and all(isinstance(i, dict) and "name" in i for i in base + patch)):
        # Like kustomize (kyaml): matched items merge in place, new ones go first.
        out = [copy.deepcopy(i) for i in base]
        index = {item["name"]: n for n, item in enumerate(out)}
        new = []
        for item in patch:
            if item["name"] in index:
                n = index[item["name"]]
                out[n] = strategic_merge(out[n], item)
            else:
                new.append(copy.deepcopy(item))
        return new + out
    return copy.deepcopy(patch)


def pod_specs(doc: dict):
    spec = doc.get("spec") or {}
    if doc.get("kind") == "Pod":
        yield spec
    template = spec.get("template") or (spec.get("jobTemplate", {}).get("spec", {}).get("template"))
    if template and "spec" in template:
        yield template["spec"]


def render(directory: str) -> list[dict]:
    kfile = os.path.join(directory, "kustomization.yaml")
    if not os.path.exists(kfile):
        raise RenderError(f"{directory}: no kustomization.yaml")
    k = load_docs(kfile)[0]
    unknown = set(k) - SUPPORTED_KEYS
    if unknown:
        raise RenderError(f"{kfile}: unsupported kustomize keys {sorted(unknown)}")

    docs: list[dict] = []
    for res in k.get("resources", []):
        path = os.path.normpath(os.path.join(directory, res))
        docs.extend(render(path) if os.path.isdir(path) else load_docs(path))

    renames: dict[str, str] = {}
    for gen in k.get("configMapGenerator", []):
        extra = set(gen) - {"name", "files", "literals", "options"}
        if extra or gen.get("behavior", "create") != "create":
            raise RenderError(f"{kfile}: unsupported configMapGenerator keys {sorted(extra)}")
        data: dict[str, str] = {}
        for spec in gen.get("files", []):
            key, _, rel = spec.rpartition("=") if "=" in spec else (os.path.basename(spec), "", spec)
            with open(os.path.join(directory, rel), encoding="utf-8") as f:
                data[key] = f.read()
        for lit in gen.get("literals", []):
            key, _, value = lit.partition("=")
            data[key] = value
        opts = gen.get("options", {}) or {}
        meta = {"name": gen["name"]}
        if opts.get("labels"):
            meta["labels"] = dict(opts["labels"])
        if opts.get("annotations"):
            meta["annotations"] = dict(opts["annotations"])
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}
        if not opts.get("disableNameSuffixHash"):
            hashed = f"{gen['name']}-{configmap_hash(cm)}"
            renames[gen["name"]] = hashed
            meta["name"] = hashed
        docs.append(cm)

    for entry in k.get("patches", []):
        if set(entry) - {"path", "patch"}:
            raise RenderError(f"{kfile}: only strategic-merge patches without target are supported")
        patches = (load_docs(os.path.join(directory, entry["path"])) if "path" in entry
                   else [d for d in yaml.safe_load_all(entry["patch"]) if d])
        for patch in patches:
            name, kind = patch["metadata"]["name"], patch["kind"]
            hits = [n for n, d in enumerate(docs) if d["kind"] == kind and d["metadata"]["name"] == name]
            if len(hits) != 1:
                raise RenderError(f"{kfile}: patch for {kind}/{name} matches {len(hits)} resources")
            docs[hits[0]] = strategic_merge(docs[hits[0]], patch)

    for doc in docs:
        for pod in pod_specs(doc):
            for vol in pod.get("volumes", []):
                ref = vol.get("configMap")
                if ref and ref.get("name") in renames:
                    ref["name"] = renames[ref["name"]]
            for c in pod.get("containers", []) + pod.get("initContainers", []):
                for ef in c.get("envFrom", []):
                    ref = ef.get("configMapRef")
                    if ref and ref.get("name") in renames:
                        ref["name"] = renames[ref["name"]]
                for env in c.get("env", []):
                    ref = (env.get("valueFrom") or {}).get("configMapKeyRef")
                    if ref and ref.get("name") in renames:
                        ref["name"] = renames[ref["name"]]
                for img in k.get("images", []):
                    image = c.get("image", "")
                    bare = image.split("@")[0]
                    repo = bare.rsplit(":", 1)[0] if ":" in bare.rsplit("/", 1)[-1] else bare
                    if repo != img["name"]:
                        continue
                    new = img.get("newName", repo)
                    if "digest" in img:
                        c["image"] = f"{new}@{img['digest']}"
                    elif "newTag" in img:
                        c["image"] = f"{new}:{img['newTag']}"
                    else:
                        c["image"] = new + image[len(repo):]

    if "namespace" in k:
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = k["namespace"]
    return docs


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        docs = render(sys.argv[1])
    except (RenderError, OSError, KeyError, yaml.YAMLError) as exc:
        print(f"kustomize_lite: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(yaml.safe_dump_all(docs, sort_keys=True, default_flow_style=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
