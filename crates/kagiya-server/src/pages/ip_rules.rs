//! Seed 003 (Bizメール&ウェブ): IPアクセス制限 from the customer administrator's own control
//! panel — 「コントロールパネルと各サービスポートに対して特定のIPアドレスからのアクセスを制限」,
//! one rule set per service the customer uses, saved with the administrator's own password. The
//! engine refuses rules that would shut out the address the administrator is saving them from
//! on their own console (the guard), and warns of the rest (shadowed rules, other
//! administrators' addresses) after saving.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use kagiya_core::directory::{Channel, Service, Tenant, User};
use kagiya_core::iprules::{IpAction, RuleSet};
use kagiya_core::password::Preset;
use kagiya_core::secret::Secret;

use super::{refusal_message, refusal_status, Chrome, Ctx, Problems};
use crate::api::Source;
use crate::flows::{self, run, Refusal};
use crate::http::AppState;

/// Whether `u` of `t` has the page: a master or admin of a Biz Mail customer.
pub fn offered(u: &User, t: &Tenant) -> bool {
    u.role.is_manager() && t.preset == Preset::BizMail
}

/// A service in the page's list.
pub struct ServiceTab {
    pub code: &'static str,
    pub label: &'static str,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "pages/ip_rules.html")]
struct IpRulesPage {
    c: Chrome,
    p: Problems,
    notice: Option<String>,
    warnings: Vec<String>,
    services: Vec<ServiceTab>,
    service: &'static str,
    service_label: &'static str,
    /// The service the administrator's own console is reached by (the guarded one).
    console: bool,
    rules: String,
    deny_by_default: bool,
    domestic_only: bool,
    /// Countries the branch allowed other than Japan alone: shown, and kept as they are (the
    /// page offers only 「海外IPアドレスからのアクセスを拒否する」).
    branch_countries: Option<String>,
    source: String,
    confirm_label: &'static str,
}

fn rules_text(set: &RuleSet) -> String {
    set.rules
        .iter()
        .map(|r| {
            let action = match r.action {
                IpAction::Allow => "allow",
                IpAction::Deny => "deny",
            };
            if r.note.is_empty() {
                format!("{action} {}", r.net)
            } else {
                format!("{action} {} {}", r.net, r.note)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Japan alone: what 「海外IPアドレスからのアクセスを拒否する」 means.
fn japan_only(countries: &Option<Vec<String>>) -> bool {
    countries.as_deref() == Some(&["JP".to_owned()][..])
}

/// A country list the page cannot show as its one box (set by the branch).
fn branch_countries(countries: &Option<Vec<String>>) -> Option<String> {
    countries
        .as_ref()
        .filter(|_| !japan_only(countries))
        .map(|c| c.join(", "))
}

/// The rules typed on the page; a line's problem names it. `countries`: the country option as
/// it will be saved.
fn parse(
    text: &str,
    deny_by_default: bool,
    countries: Option<Vec<String>>,
) -> Result<RuleSet, kagiya_core::Error> {
    let rules = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(RuleSet::parse_rule)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RuleSet {
        rules,
        default: if deny_by_default {
            IpAction::Deny
        } else {
            IpAction::Allow
        },
        allowed_countries: countries,
    })
}

fn chosen(t: &Tenant, asked: Option<&str>) -> Service {
    asked
        .and_then(Service::parse)
        .filter(|s| t.services.contains(s))
        .or_else(|| t.services.first().copied())
        .unwrap_or(Service::UserWeb)
}

#[allow(clippy::too_many_arguments)]
fn build(
    c: &Ctx,
    u: &User,
    t: &Tenant,
    service: Service,
    set: &RuleSet,
    text: Option<String>,
    ip: std::net::IpAddr,
    p: Problems,
) -> IpRulesPage {
    let l = c.l;
    IpRulesPage {
        c: c.chrome(
            l.pick("IPアクセス制限", "IP access restriction"),
            Some((u, t)),
        ),
        p,
        notice: None,
        warnings: Vec::new(),
        services: t
            .services
            .iter()
            .map(|s| ServiceTab {
                code: s.code(),
                label: s.label(l),
                current: *s == service,
            })
            .collect(),
        service: service.code(),
        service_label: service.label(l),
        console: Channel::Web.service(u.role, &t.services) == service,
        rules: text.unwrap_or_else(|| rules_text(set)),
        deny_by_default: set.default == IpAction::Deny,
        domestic_only: japan_only(&set.allowed_countries),
        branch_countries: branch_countries(&set.allowed_countries),
        source: ip.to_string(),
        confirm_label: super::me::confirm_label(l, t),
    }
}

/// A Biz Mail customer's master or admin (see `offered`).
async fn administrator(
    s: &AppState,
    c: &Ctx,
    ip: std::net::IpAddr,
) -> Result<(User, Tenant), Response> {
    let (u, t) = super::manager(s, c, ip).await?;
    if !offered(&u, &t) {
        let denied = kagiya_core::directory::authz::Denial::BranchOnly;
        let refused = Refusal::Engine(kagiya_core::Error::NotPermitted(denied));
        return Err(super::problem_page(c, refused));
    }
    Ok((u, t))
}

/// `GET /admin/ip-rules?service=`.
pub async fn page_get(s: &AppState, c: &Ctx, ip: std::net::IpAddr, uri: &Uri) -> Response {
    let (u, t) = match administrator(s, c, ip).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let asked = uri.query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "service")
            .map(|(_, v)| v.into_owned())
    });
    let service = chosen(&t, asked.as_deref());
    let contract = t.contract_no.clone();
    let set = match run(s, move |e| e.ip_rules(&contract, service)).await {
        Ok(set) => set,
        Err(e) => return super::problem_page(c, Refusal::Engine(e)),
    };
    let mut pg = build(c, &u, &t, service, &set, None, ip, Problems::default());
    if uri.query().is_some_and(|q| q.contains("saved=1")) {
        pg.notice = Some(c.l.pick("保存しました。", "Saved.").into());
    }
    c.html(StatusCode::OK, pg.render())
}

/// `GET /admin/ip-rules`.
pub async fn page(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let c = Ctx::new(&headers, &uri);
    page_get(&s, &c, ip, &uri).await
}

/// `POST /admin/ip-rules`.
pub async fn save(State(s): State<AppState>, Source(ip): Source, req: Request) -> Response {
    let (c, f) = match Ctx::form(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (u, t) = match administrator(&s, &c, ip).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    // The service named by the form, and only one the customer uses (never a default).
    let Some(service) = f
        .get("service")
        .and_then(Service::parse)
        .filter(|x| t.services.contains(x))
    else {
        let refused = Refusal::Engine(kagiya_core::Error::InvalidValue("service"));
        return super::problem_page(&c, refused);
    };
    let contract = t.contract_no.clone();
    let current = match run(&s, move |e| e.ip_rules(&contract, service)).await {
        Ok(set) => set,
        Err(e) => return super::problem_page(&c, Refusal::Engine(e)),
    };
    let text = f.text("rules");
    let deny = f.get("default") == Some("deny");
    // A list the branch set stays as it is; otherwise the box decides.
    let countries = if branch_countries(&current.allowed_countries).is_some() {
        current.allowed_countries.clone()
    } else {
        f.ticked("domestic_only").then(|| vec!["JP".to_owned()])
    };
    let mut p = Problems::default();
    let set = match parse(&text, deny, countries.clone()) {
        Ok(set) => set,
        Err(e) => {
            p.add("rules", e.message(c.l));
            RuleSet {
                rules: Vec::new(),
                default: if deny {
                    IpAction::Deny
                } else {
                    IpAction::Allow
                },
                allowed_countries: countries,
            }
        }
    };
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if p.is_empty() {
        let r = flows::counted(&s, "own_ip_rules", async {
            flows::throttle(&s, crate::throttle::Kind::Account, ip, &u.login_id)?;
            let (id, own, rules) = (
                u.login_id.clone(),
                Secret::new(f.text("password")),
                set.clone(),
            );
            run(&s, move |e| {
                e.set_own_ip_rules(&id, &own, service, rules, ip)
            })
            .await
            .map_err(Refusal::from)
        })
        .await;
        match r {
            Ok(warned) if warned.is_empty() => {
                return c.redirect(&format!(
                    "/admin/ip-rules?service={}&saved=1",
                    service.code()
                ));
            }
            Ok(warned) => {
                let mut pg = build(&c, &u, &t, service, &set, None, ip, p);
                pg.notice = Some(
                    c.l.pick(
                        "保存しました。次の点をご確認ください。",
                        "Saved. Please check the following.",
                    )
                    .into(),
                );
                pg.warnings = warned.iter().map(|w| w.message(c.l)).collect();
                return c.html(StatusCode::OK, pg.render());
            }
            Err(r) => {
                status = refusal_status(&r);
                let at = match &r {
                    Refusal::Engine(kagiya_core::Error::InvalidIpRule(_)) => "rules",
                    _ => super::field_of(&r, "password"),
                };
                p.add(at, refusal_message(c.l, &r));
            }
        }
    }
    let pg = build(&c, &u, &t, service, &set, Some(text), ip, p);
    c.html(status, pg.render())
}
