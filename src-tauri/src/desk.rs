//! The branch workflows' commands (dashboard, customers, users, requests, certificates, audit).
//! Each hands over to `kagiya_desk::desk`; secrets arrive as `Secret` and are wiped after use.

use kagiya_core::directory::{CredentialKind, Purpose, Service};
use kagiya_core::operator::Role;
use kagiya_core::password::Preset;
use kagiya_desk::desk::*;
use kagiya_desk::Secret;
use kagiya_engine::addresses::AddressView;
use kagiya_engine::InitRequestForm;
use tauri::State;

use crate::commands::Reply;
use crate::state::{AppState, ExportDir};

#[tauri::command]
#[specta::specta]
pub async fn dashboard(state: State<'_, AppState>, utc_offset_minutes: i32) -> Reply<Dashboard> {
    state.with(|c| c.dashboard(utc_offset_minutes))
}

#[tauri::command]
#[specta::specta]
pub async fn choices(state: State<'_, AppState>) -> Reply<Choices> {
    state.with(|c| Ok(c.choices()))
}

#[tauri::command]
#[specta::specta]
pub async fn customers(state: State<'_, AppState>) -> Reply<Vec<CustomerRow>> {
    state.with(|c| c.customers())
}

#[tauri::command]
#[specta::specta]
pub async fn customer(state: State<'_, AppState>, contract_no: String) -> Reply<CustomerDetail> {
    state.with(|c| c.customer(&contract_no))
}

#[tauri::command]
#[specta::specta]
pub async fn create_customer(
    state: State<'_, AppState>,
    form: CustomerForm,
    confirmation: Secret,
) -> Reply<CustomerDetail> {
    state.with(|c| c.create_customer(&form, &confirmation))
}

#[tauri::command]
#[specta::specta]
#[allow(clippy::too_many_arguments)]
pub async fn set_customer_policy(
    state: State<'_, AppState>,
    contract_no: String,
    credential: CredentialKind,
    preset: Preset,
    lock_threshold: u32,
    lock_window_minutes: u32,
    lock_minutes: u32,
    permanent_after: Option<u32>,
    confirmation: Secret,
) -> Reply<CustomerDetail> {
    state.with(|c| {
        c.set_customer_policy(
            &contract_no,
            credential,
            preset,
            lock_threshold,
            lock_window_minutes,
            lock_minutes,
            permanent_after,
            &confirmation,
        )
    })
}

#[tauri::command]
#[specta::specta]
pub async fn ip_rule_warnings(
    state: State<'_, AppState>,
    contract_no: String,
    form: IpRulesForm,
) -> Reply<Vec<String>> {
    state.with(|c| c.ip_rule_warnings(&contract_no, &form))
}

#[tauri::command]
#[specta::specta]
pub async fn set_ip_rules(
    state: State<'_, AppState>,
    contract_no: String,
    form: IpRulesForm,
    confirmation: Secret,
) -> Reply<Vec<String>> {
    state.with(|c| c.set_ip_rules(&contract_no, &form, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn release_ip_restrictions(
    state: State<'_, AppState>,
    contract_no: String,
    minutes: u32,
    reason: String,
    confirmation: Secret,
) -> Reply<CustomerDetail> {
    state.with(|c| c.release_ip_restrictions(&contract_no, minutes, &reason, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn check_ip(
    state: State<'_, AppState>,
    contract_no: String,
    service: Service,
    ip: String,
) -> Reply<IpCheckView> {
    state.with(|c| c.check_ip(&contract_no, service, &ip))
}

#[tauri::command]
#[specta::specta]
pub async fn user_page(state: State<'_, AppState>, query: UserPageQuery) -> Reply<UserPageView> {
    state.with(|c| c.user_page(&query))
}

#[tauri::command]
#[specta::specta]
pub async fn user_detail(state: State<'_, AppState>, login_id: String) -> Reply<UserDetail> {
    state.with(|c| c.user_detail(&login_id))
}

#[tauri::command]
#[specta::specta]
pub async fn create_user(
    state: State<'_, AppState>,
    form: NewUserForm,
    confirmation: Secret,
) -> Reply<IssuedSlip> {
    state.with(|c| c.create_user(&form, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn unlock_users(
    state: State<'_, AppState>,
    login_ids: Vec<String>,
    confirmation: Secret,
) -> Reply<UnlockResult> {
    state.with(|c| c.unlock_users(&login_ids, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn unlock_candidates(
    state: State<'_, AppState>,
    contract_no: String,
) -> Reply<Vec<String>> {
    state.with(|c| c.unlock_candidates(&contract_no))
}

#[tauri::command]
#[specta::specta]
pub async fn set_user_passwords(
    state: State<'_, AppState>,
    login_id: String,
    form: PasswordsForm,
    confirmation: Secret,
) -> Reply<IssuedSlip> {
    state.with(|c| c.set_user_passwords(&login_id, form, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn add_address(
    state: State<'_, AppState>,
    login_id: String,
    address: String,
    purposes: Vec<Purpose>,
    confirmation: Secret,
) -> Reply<Vec<AddressView>> {
    state.with(|c| c.add_address(&login_id, &address, &purposes, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn set_address_flags(
    state: State<'_, AppState>,
    login_id: String,
    address: String,
    sign: bool,
    encrypt: bool,
    confirmation: Secret,
) -> Reply<Vec<AddressView>> {
    state.with(|c| c.set_address_flags(&login_id, &address, sign, encrypt, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn delete_address(
    state: State<'_, AppState>,
    login_id: String,
    address: String,
    confirmation: Secret,
) -> Reply<Vec<AddressView>> {
    state.with(|c| c.delete_address(&login_id, &address, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn disable_user_mfa(
    state: State<'_, AppState>,
    login_id: String,
    confirmation: Secret,
) -> Reply<bool> {
    state.with(|c| c.disable_user_mfa(&login_id, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn set_users_suspended(
    state: State<'_, AppState>,
    login_ids: Vec<String>,
    suspend: bool,
    confirmation: Secret,
) -> Reply<Vec<String>> {
    state.with(|c| c.set_users_suspended(&login_ids, suspend, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn init_requests(state: State<'_, AppState>) -> Reply<Vec<InitRequestView>> {
    state.with(|c| c.init_requests())
}

#[tauri::command]
#[specta::specta]
pub async fn init_request_preview(
    state: State<'_, AppState>,
    contract_no: String,
    targets: Vec<String>,
) -> Reply<Vec<ProposedAction>> {
    state.with(|c| c.init_request_preview(&contract_no, &targets))
}

#[tauri::command]
#[specta::specta]
pub async fn record_init_request(
    state: State<'_, AppState>,
    form: InitRequestForm,
    confirmation: Secret,
) -> Reply<InitRequestView> {
    state.with(|c| c.record_init_request(form, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn decide_init_request(
    state: State<'_, AppState>,
    request_no: String,
    supervisor_id: String,
    supervisor_confirmation: Secret,
    reject_reason: Option<String>,
) -> Reply<InitRequestView> {
    state.with(|c| {
        c.decide_init_request(
            &request_no,
            &supervisor_id,
            &supervisor_confirmation,
            reject_reason,
        )
    })
}

#[tauri::command]
#[specta::specta]
pub async fn execute_init_request(
    state: State<'_, AppState>,
    request_no: String,
    confirmation: Secret,
) -> Reply<Vec<IssuedSlip>> {
    state.with(|c| c.execute_init_request(&request_no, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn certificates(state: State<'_, AppState>) -> Reply<Vec<CertificateRow>> {
    state.with(|c| c.certificates())
}

#[tauri::command]
#[specta::specta]
pub async fn certificate_report(
    state: State<'_, AppState>,
    address: String,
    file_base64: String,
) -> Reply<CertificateReportView> {
    state.with(|c| c.certificate_report(&address, &file_base64))
}

#[tauri::command]
#[specta::specta]
pub async fn import_certificate(
    state: State<'_, AppState>,
    login_id: String,
    address: String,
    file_base64: String,
    confirmation: Secret,
) -> Reply<CertificateReportView> {
    state.with(|c| c.import_certificate(&login_id, &address, &file_base64, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn audit_page(state: State<'_, AppState>, filter: AuditFilter) -> Reply<AuditPage> {
    state.with(|c| c.audit_page(&filter))
}

#[tauri::command]
#[specta::specta]
pub async fn verify_audit_chain(state: State<'_, AppState>) -> Reply<AuditVerification> {
    state.with(|c| c.verify_audit_chain())
}

/// Writes the CSV into the export folder chosen at launch (the OS Downloads folder unless
/// `--export-dir` says otherwise); the webview never names a path.
#[tauri::command]
#[specta::specta]
pub async fn export_audit_csv(
    state: State<'_, AppState>,
    dir: State<'_, ExportDir>,
    filter: AuditFilter,
    utc_offset_minutes: i32,
    confirmation: Secret,
) -> Reply<AuditExport> {
    state.with(|c| c.export_audit_csv(&filter, &dir.0, utc_offset_minutes, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn staff(state: State<'_, AppState>) -> Reply<StaffView> {
    state.with(|c| c.staff())
}

#[tauri::command]
#[specta::specta]
pub async fn set_operator_disabled(
    state: State<'_, AppState>,
    operator_id: String,
    disabled: bool,
    confirmation: Secret,
) -> Reply<StaffView> {
    state.with(|c| c.set_operator_disabled(&operator_id, disabled, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn set_operator_role(
    state: State<'_, AppState>,
    operator_id: String,
    role: Role,
    confirmation: Secret,
) -> Reply<StaffView> {
    state.with(|c| c.set_operator_role(&operator_id, role, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn reset_operator_passwords(
    state: State<'_, AppState>,
    operator_id: String,
    confirmation: Secret,
) -> Reply<OperatorSlip> {
    state.with(|c| c.reset_operator_passwords(&operator_id, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn set_operator_expiry_days(
    state: State<'_, AppState>,
    days: u32,
    confirmation: Secret,
) -> Reply<StaffView> {
    state.with(|c| c.set_operator_expiry_days(days, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn change_own_operator_passwords(
    state: State<'_, AppState>,
    current_login: Secret,
    new_login: Secret,
    new_confirmation: Option<Secret>,
) -> Reply<()> {
    state.with(|c| {
        c.change_own_operator_passwords(&current_login, &new_login, new_confirmation.as_ref())
    })
}

#[tauri::command]
#[specta::specta]
pub async fn sync_view(state: State<'_, AppState>) -> Reply<SyncView> {
    state.with(|c| c.sync_view())
}

#[tauri::command]
#[specta::specta]
pub async fn enrol_sync(
    state: State<'_, AppState>,
    server_url: String,
    ca_file: Option<String>,
    code: String,
    confirmation: Secret,
) -> Reply<SyncView> {
    state.with(|c| c.enrol_sync(&server_url, ca_file.as_deref(), &code, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn sync_now(state: State<'_, AppState>) -> Reply<SyncView> {
    state.with(|c| c.sync_now())
}

#[tauri::command]
#[specta::specta]
pub async fn sync_review(state: State<'_, AppState>) -> Reply<Vec<ReviewRow>> {
    state.with(|c| c.sync_review())
}

#[tauri::command]
#[specta::specta]
pub async fn sync_review_done(
    state: State<'_, AppState>,
    device_seq: i64,
) -> Reply<Vec<ReviewRow>> {
    state.with(|c| c.sync_review_done(device_seq))
}
