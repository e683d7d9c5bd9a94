using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;

namespace ExchangeBridge.Server.Identity;

/// <summary>
/// A policy whose every requirement a validated <see cref="Caller"/> answers by itself: authenticated (the framework's
/// DenyAnonymous, met by any caller) and Feishu's own (<see cref="IFeishuRequirement"/>). A policy with any other
/// requirement (an assertion, a role, a rule added to a route) is not one: only the framework evaluates it.
/// </summary>
public sealed class FeishuPolicy
{
    private readonly IFeishuRequirement[] _requirements;

    private FeishuPolicy(IFeishuRequirement[] requirements) => _requirements = requirements;

    /// <summary>The policy's Feishu requirements, in its order; null when it has a requirement of another kind.</summary>
    public static FeishuPolicy? Read(AuthorizationPolicy policy)
    {
        var requirements = new List<IFeishuRequirement>(policy.Requirements.Count);
        foreach (var requirement in policy.Requirements)
        {
            if (requirement is IFeishuRequirement feishu) requirements.Add(feishu);
            else if (requirement is not DenyAnonymousAuthorizationRequirement) return null;
        }
        return new FeishuPolicy([.. requirements]);
    }

    /// <summary>True when the caller meets every requirement: what the framework's evaluation would conclude.</summary>
    public bool Admits(Caller caller)
    {
        foreach (var requirement in _requirements)
            if (requirement.Refusal(caller) is not null) return false;
        return true;
    }
}
