using System.Globalization;
using System.Security.Claims;
using ExchangeBridge.Server.Admin;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBridge.Server.Console.Pages;

/// <summary>
/// Sign-in with an operator key (checked by <see cref="OperatorKeys"/>, as the operator API's bearer is), then a session
/// cookie. Attempts are counted per source address (<see cref="SignInLimiter"/>); the key is never written back into the page.
/// </summary>
public sealed class SignInModel(OperatorKeys keys, SignInLimiter limiter) : PageModel
{
    [BindProperty]
    public string? OperatorKey { get; set; }

    [BindProperty(SupportsGet = true, Name = "return")]
    public string? ReturnUrl { get; set; }

    public string? Refusal { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var presented = (OperatorKey ?? "").Trim();
        OperatorKey = null;
        if (!limiter.TryAttempt(HttpContext))
        {
            Refusal = "Too many sign-in attempts from your address. Wait a few minutes, then try again.";
            Response.Headers.RetryAfter = ((int)limiter.RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            return RefusedWith(StatusCodes.Status429TooManyRequests);
        }
        if (!await keys.IsKnownAsync(presented, ct))
        {
            Refusal = "That is not an operator key of this server.";
            return RefusedWith(StatusCodes.Status401Unauthorized);
        }
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "operator"), new Claim(ClaimTypes.Role, SignInLimiter.OperatorRole)],
            ConsoleRegistration.Scheme);
        await HttpContext.SignInAsync(ConsoleRegistration.Scheme, new ClaimsPrincipal(identity), new AuthenticationProperties());
        // Only back into the console: a return address elsewhere would make this page an open redirect.
        return LocalRedirect(ReturnUrl is { } back && Url.IsLocalUrl(back) && back.StartsWith(ConsoleRegistration.PathPrefix, StringComparison.Ordinal)
            ? back : ConsoleRegistration.PathPrefix);
    }

    private PageResult RefusedWith(int status)
    {
        var page = Page();
        page.StatusCode = status;
        return page;
    }
}
