//! Code tables: mailing groups, industry groups, business relations, job responsibilities,
//! salespeople and interaction groups, under `/v1/<table>` and `/v1/<table>/{code}`, and the
//! contacts of an entry under `/v1/<table>/{code}/contacts`.

pub mod handlers;
pub mod members;
pub mod model;
pub mod repo;
pub mod salespeople;

use crate::http::routing;
use actix_web::web;
use utoipa::OpenApi;

use self::handlers as h;
use self::members as m;
use self::salespeople::handlers as sp;

#[derive(OpenApi)]
#[openapi(
    paths(
        h::list_mailing_groups,
        h::create_mailing_group,
        h::get_mailing_group,
        h::update_mailing_group,
        h::delete_mailing_group,
        h::list_industry_groups,
        h::create_industry_group,
        h::get_industry_group,
        h::update_industry_group,
        h::delete_industry_group,
        h::list_business_relations,
        h::create_business_relation,
        h::get_business_relation,
        h::update_business_relation,
        h::delete_business_relation,
        h::list_job_responsibilities,
        h::create_job_responsibility,
        h::get_job_responsibility,
        h::update_job_responsibility,
        h::delete_job_responsibility,
        h::list_interaction_groups,
        h::create_interaction_group,
        h::get_interaction_group,
        h::update_interaction_group,
        h::delete_interaction_group,
        sp::list_salespeople,
        sp::create_salesperson,
        sp::get_salesperson,
        sp::update_salesperson,
        sp::delete_salesperson,
    ),
    components(schemas(
        model::DescribedCodeResponse,
        model::DescribedCodeList,
        model::CreateDescribedCode,
        model::UpdateDescribedCode,
        salespeople::model::SalespersonResponse,
        salespeople::model::SalespersonList,
        salespeople::model::CreateSalesperson,
        salespeople::model::UpdateSalesperson,
    ))
)]
pub struct CodeTablesApi;

/// The contact lists of code table entries: tagged `contacts`, and merged after the contacts'
/// own paths so that the document keeps them there.
#[derive(OpenApi)]
#[openapi(paths(
    m::list_mailing_group_contacts,
    m::list_industry_group_contacts,
    m::list_business_relation_contacts,
    m::list_job_responsibility_contacts,
))]
pub struct MembersApi;

/// `web::resource` per URL, so that a method a URL does not serve answers 405.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        routing::resource("/mailing-groups").get(h::list_mailing_groups).post(h::create_mailing_group),
    )
    .service(
        routing::resource("/mailing-groups/{code}")
            .get(h::get_mailing_group)
            .patch(h::update_mailing_group)
            .delete(h::delete_mailing_group),
    )
    .service(
        routing::resource("/industry-groups").get(h::list_industry_groups).post(h::create_industry_group),
    )
    .service(
        routing::resource("/industry-groups/{code}")
            .get(h::get_industry_group)
            .patch(h::update_industry_group)
            .delete(h::delete_industry_group),
    )
    .service(
        routing::resource("/business-relations")
            .get(h::list_business_relations)
            .post(h::create_business_relation),
    )
    .service(
        routing::resource("/business-relations/{code}")
            .get(h::get_business_relation)
            .patch(h::update_business_relation)
            .delete(h::delete_business_relation),
    )
    .service(
        routing::resource("/job-responsibilities")
            .get(h::list_job_responsibilities)
            .post(h::create_job_responsibility),
    )
    .service(
        routing::resource("/job-responsibilities/{code}")
            .get(h::get_job_responsibility)
            .patch(h::update_job_responsibility)
            .delete(h::delete_job_responsibility),
    )
    .service(
        routing::resource("/interaction-groups")
            .get(h::list_interaction_groups)
            .post(h::create_interaction_group),
    )
    .service(
        routing::resource("/interaction-groups/{code}")
            .get(h::get_interaction_group)
            .patch(h::update_interaction_group)
            .delete(h::delete_interaction_group),
    )
    .service(routing::resource("/mailing-groups/{code}/contacts").get(m::list_mailing_group_contacts))
    .service(routing::resource("/industry-groups/{code}/contacts").get(m::list_industry_group_contacts))
    .service(routing::resource("/business-relations/{code}/contacts").get(m::list_business_relation_contacts))
    .service(
        routing::resource("/job-responsibilities/{code}/contacts").get(m::list_job_responsibility_contacts),
    )
    .service(routing::resource("/salespeople").get(sp::list_salespeople).post(sp::create_salesperson))
    .service(
        routing::resource("/salespeople/{code}")
            .get(sp::get_salesperson)
            .patch(sp::update_salesperson)
            .delete(sp::delete_salesperson),
    );
}
