"""CloudFormation templates for the deploy tests: YAML with the short forms (!Ref, !Sub, ...),
and the resources a template creates for given parameter values (its conditions evaluated)."""
import yaml


class CfnLoader(yaml.SafeLoader):
    pass


def _construct(tag):
    long = "Ref" if tag == "Ref" else ("Condition" if tag == "Condition" else "Fn::" + tag)

    def f(loader, node):
        if isinstance(node, yaml.ScalarNode):
            v = loader.construct_scalar(node)
            if tag == "GetAtt":
                v = v.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            v = loader.construct_sequence(node, deep=True)
        else:
            v = loader.construct_mapping(node, deep=True)
        return {long: v}
    return f


for t in ("Ref", "Condition", "GetAtt", "Sub", "If", "Equals", "Not", "And", "Or", "Join", "Split", "Select",
          "FindInMap", "GetAZs", "ImportValue", "Base64", "Cidr", "ToJsonString", "Length"):
    CfnLoader.add_constructor("!" + t, _construct(t))


def load(path):
    with open(path) as f:
        return yaml.load(f, Loader=CfnLoader)


def created(tpl, values):
    """The names of the resources created with these parameter values (the others at their defaults)."""
    params, conds, res = tpl.get("Parameters", {}), tpl.get("Conditions", {}), tpl.get("Resources", {})
    pv = {k: values.get(k, p.get("Default", "")) for k, p in params.items()}
    memo = {}

    def val(x):
        if isinstance(x, dict) and "Ref" in x:
            v = pv[x["Ref"]]
            return v.split(",") if params[x["Ref"]]["Type"] == "CommaDelimitedList" and isinstance(v, str) else v
        if isinstance(x, dict) and "Fn::Join" in x:
            sep, parts = x["Fn::Join"]
            parts = val(parts) if isinstance(parts, dict) else [val(y) for y in parts]
            return sep.join(str(y) for y in parts)
        return x

    def cond(x):
        if isinstance(x, str):
            if x not in memo:
                memo[x] = cond(conds[x])
            return memo[x]
        (k, v), = x.items()
        if k == "Fn::Equals":
            return str(val(v[0])) == str(val(v[1]))
        if k == "Fn::Not":
            return not cond(v[0])
        if k == "Fn::And":
            return all(cond(y) for y in v)
        if k == "Fn::Or":
            return any(cond(y) for y in v)
        if k == "Condition":
            return cond(v)
        raise ValueError("condition %s" % k)
    return sorted(n for n, r in res.items() if "Condition" not in r or cond(r["Condition"]))
